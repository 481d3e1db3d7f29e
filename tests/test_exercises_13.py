"""Exercise checks of notebook 13 accept the right answer, reject wrong ones and wait for None."""
from course_utils import exercises as ex
from course_utils import family


def test_ex13():
    a = family.config_object("albert-base-v2")
    assert ex.ex13_sharing_saving(77_966_592, config=a) is True
    assert ex.ex13_sharing_saving(85_054_464, config=a) is False      # all 12 layers, not 11
    assert ex.ex13_sharing_saving(None, config=a) is None
    b = family.config_object("bert-base-uncased")
    assert ex.ex13_distilbert_dropped(592_128, bert_config=b) is True
    assert ex.ex13_distilbert_dropped(590_592, bert_config=b) is False  # the pooler alone
    budget = {"mlm_steps": 60, "mlm_per_token": {"total": 100.0}, "rtd_per_token": {"total": 120.0}}
    assert ex.ex13_rtd_steps(50, budget=budget) is True
    assert ex.ex13_rtd_steps(60, budget=budget) is False
    assert ex.ex13_rtd_steps(True, budget=budget) is False
    assert ex.ex13_no_unk("byte-level BPE") is True
    assert ex.ex13_no_unk("WordPiece") is False
    assert ex.ex13_no_unk(None) is None
