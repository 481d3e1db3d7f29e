from .data_quality import *  # noqa: F403  the old name, until notebooks 08/09 import data_quality; then delete
