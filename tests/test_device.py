import json

import pytest
import torch

from course_utils import device


def test_cpu_defaults(monkeypatch):
    monkeypatch.delenv(device.REQUIRE_GPU_ENV, raising=False)
    assert device.amp_dtype(torch.device("cpu")) is None
    assert device.trainer_precision_kwargs(torch.device("cpu")) == {"bf16": False, "fp16": False}
    with device.autocast(torch.device("cpu")):
        pass


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA refusal")
def test_gpu_mode_refuses_without_cuda(monkeypatch):
    monkeypatch.setenv(device.REQUIRE_GPU_ENV, "1")
    with pytest.raises(device.NoGPUError, match="no CUDA device"):
        device.get_device()


def test_seeding_is_reproducible():
    device.seed_everything(7)
    a = torch.rand(3)
    device.seed_everything(7)
    assert torch.equal(a, torch.rand(3))


def test_runtime_record_file(monkeypatch, tmp_path):
    path = tmp_path / "record.jsonl"
    monkeypatch.setenv(device.RECORD_ENV, str(path))
    model = torch.nn.Linear(2, 2)
    rec = device.record_model("unit test", model)
    assert rec["device"] == "cpu" and rec["dtype"] == "float32" and rec["autocast"] is False
    rows = device.read_record(path)
    assert rows[-1] == json.loads(json.dumps(rec))


def test_gpu_check_gives_colab_advice_on_cpu(capsys):
    if torch.cuda.is_available():
        pytest.skip("GPU present")
    info = device.gpu_check()
    assert info["device"] in ("cpu", "mps")
    assert "Change runtime type" in capsys.readouterr().out


@pytest.mark.parametrize("bf16_native, expected", [(True, torch.bfloat16), (False, torch.float16)])
def test_amp_dtype_on_cuda(monkeypatch, bf16_native, expected):
    """The CUDA branch without a GPU: bf16 only where the GPU supports it natively (emulation does
    not count: a T4 gets fp16), and the Trainer flags follow the same choice."""
    calls = []

    def fake_is_bf16_supported(including_emulation=True):
        calls.append(including_emulation)
        return bf16_native if not including_emulation else True   # emulated bf16 is always "supported"

    monkeypatch.setattr(torch.cuda, "is_bf16_supported", fake_is_bf16_supported)
    cuda = torch.device("cuda")
    assert device.amp_dtype(cuda) is expected
    assert calls == [False], "amp_dtype must ask for native bf16 (including_emulation=False)"
    assert device.trainer_precision_kwargs(cuda) == {"bf16": bf16_native, "fp16": not bf16_native}
    assert device.amp_dtype(torch.device("cpu")) is None and len(calls) == 2   # the CPU never asks


@pytest.mark.parametrize("flags, expected", [
    ("fpu sse2 avx2 avx512f avx512_bf16 avx512_vnni", True),     # AMD Zen 4, Intel Cooper Lake
    ("fpu sse2 avx2 avx512f amx_bf16 amx_tile", True),           # Intel Sapphire Rapids
    ("fpu sse2 avx2 avx512f avx512_vnni", False),                # AVX-512 without bf16: emulated
    ("fpu sse2 avx2", False),
])
def test_cpu_bf16_native_reads_the_cpu_flags(tmp_path, monkeypatch, flags, expected):
    monkeypatch.delenv("BERT_COURSE_CPU_BF16", raising=False)
    info = tmp_path / "cpuinfo"
    info.write_text(f"processor\t: 0\nmodel name\t: some cpu with avx512_bf16 in its name\nflags\t\t: {flags}\n\n")
    if not expected:      # a flag named elsewhere than on the flags line does not count
        assert device.cpu_bf16_native(info) is False
    assert device.cpu_bf16_native(info) is expected


def test_cpu_bf16_native_override_and_unreadable(tmp_path, monkeypatch):
    monkeypatch.delenv("BERT_COURSE_CPU_BF16", raising=False)
    assert device.cpu_bf16_native(tmp_path / "absent") is False              # macOS, Windows: no /proc/cpuinfo
    monkeypatch.setenv("BERT_COURSE_CPU_BF16", "1")
    assert device.cpu_bf16_native(tmp_path / "absent") is True
    monkeypatch.setenv("BERT_COURSE_CPU_BF16", "0")
    info = tmp_path / "cpuinfo"
    info.write_text("flags\t\t: avx512_bf16\n")
    assert device.cpu_bf16_native(info) is False
    monkeypatch.setenv("BERT_COURSE_CPU_BF16", "yes")
    with pytest.raises(ValueError, match="BERT_COURSE_CPU_BF16='yes'"):
        device.cpu_bf16_native(info)
