"""The aeod CLI, run in-process."""

from click.testing import CliRunner

from anomalib_ae import __version__
from anomalib_ae.cli import main


def test_version():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output
