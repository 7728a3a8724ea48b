"""scripts/ensure-system-packages.sh (run by `make run` and `make test`): an installed package is
never reported missing, and apt waits for another apt or dpkg process instead of failing.

Everything here is real: the script's own functions (sourced), dpkg-query and ldconfig of this
machine, and apt-get on a scratch configuration (APT_CONFIG: its own package lists, dpkg status
and cache in tmp_path, no sources), so no test installs anything or touches the system's locks.
"""

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "ensure-system-packages.sh"
LIBRARIES = ["libpango-1.0.so.0", "libpangoft2-1.0.so.0", "libharfbuzz-subset.so.0"]
PACKAGES = ["libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0"]
BASH = shutil.which("bash") or "/bin/bash"


def _bash(code: str, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    """Run `code` in bash with the script's functions sourced (its main does not run)."""
    return subprocess.run(
        [BASH, "-c", f'source "{SCRIPT}"\n{code}'],
        capture_output=True,
        text=True,
        timeout=120,
        env=env or os.environ.copy(),
        **kwargs,
    )


def test_check_mode_finds_the_installed_packages_every_time():
    """`make test` ran the script before this suite, so the packages are there: 20 runs, 20
    times "nothing missing" (about one run in fifteen said otherwise before)."""
    for _ in range(20):
        result = subprocess.run(
            [str(SCRIPT), "--check"], capture_output=True, text=True, timeout=60
        )
        assert (result.returncode, result.stdout) == (0, "")


def test_library_check_reads_the_loader_cache_without_a_pipe():
    """`ldconfig -p | grep -q` under pipefail: grep stops at its match, ldconfig gets SIGPIPE
    and the pipeline says 141. Reading the cache whole has no such race: 300 fresh reads."""
    checks = " && ".join(f"have_lib {lib}" for lib in LIBRARIES)
    result = _bash(
        f'for _ in $(seq 100); do LDCONFIG_CACHE=""; {checks} || {{ echo missed; exit 1; }}; done\n'
        "have_lib libno-such-library.so.9 && exit 3\n"
        "exit 0"
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


@pytest.mark.skipif(shutil.which("dpkg-query") is None, reason="needs dpkg (Debian)")
def test_dpkg_query_says_installed_or_not():
    checks = " && ".join(f"pkg_installed {pkg}" for pkg in PACKAGES)
    result = _bash(f"{checks} || exit 1\npkg_installed no-such-package-h18 && exit 2\nexit 0")
    assert result.returncode == 0, result.stdout + result.stderr


def test_without_dpkg_the_libraries_decide(tmp_path):
    """Another distribution: no dpkg-query on the PATH, the loader's cache answers."""
    ldconfig = shutil.which("ldconfig") or "/sbin/ldconfig"
    (tmp_path / "ldconfig").symlink_to(ldconfig)
    env = os.environ | {"PATH": str(tmp_path)}
    result = _bash('[[ -z $(missing_packages "") ]] || exit 1', env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert _bash("pkg_installed libpango-1.0-0", env=env).returncode == 1


def test_check_mode_names_what_is_missing_and_installs_nothing(tmp_path):
    """An empty PATH: no wrk (the libraries are still found through /sbin/ldconfig)."""
    result = subprocess.run(
        [BASH, str(SCRIPT), "--bench", "--check"],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ | {"PATH": str(tmp_path)},
    )
    assert (result.returncode, result.stdout, result.stderr) == (1, "wrk\n", "")


@pytest.fixture
def scratch_apt(tmp_path) -> dict:
    """apt-get on its own lists, dpkg status and cache, with no sources: nothing is fetched and
    nothing installed, but its locks are taken and refused like the system's."""
    if shutil.which("apt-get") is None:
        pytest.skip("needs apt-get (Debian)")
    for folder in ("lists/partial", "dpkg/updates", "cache/archives/partial", "parts"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "dpkg" / "status").touch()
    (tmp_path / "sources.list").touch()
    config = tmp_path / "apt.conf"
    config.write_text(
        f'Dir::State::Lists "{tmp_path}/lists";\n'
        f'Dir::State::status "{tmp_path}/dpkg/status";\n'
        f'Dir::Cache "{tmp_path}/cache";\n'
        f'Dir::Etc::sourcelist "{tmp_path}/sources.list";\n'
        f'Dir::Etc::sourceparts "{tmp_path}/parts";\n'
    )
    return {"config": config, "root": tmp_path}


def _run_holding_lock(lock_path: Path, code: str, config: Path, waiting_line: str):
    """Hold `lock_path` as apt and dpkg do (a POSIX record lock), run `code`, release the lock
    once the script says it is waiting; return the exit status and everything it printed."""
    env = os.environ | {
        "APT_CONFIG": str(config),
        "APT_LOCK_TIMEOUT": "60",
        "APT_LOCK_RETRY_SECONDS": "0.2",
    }
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o640)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX)
        process = subprocess.Popen(
            [BASH, "-c", f'source "{SCRIPT}"\n{code}'],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        lines = []
        for line in process.stdout:
            lines.append(line)
            if waiting_line in line:
                fcntl.lockf(fd, fcntl.LOCK_UN)
                break
        lines.extend(process.stdout)
        return process.wait(timeout=60), "".join(lines)
    finally:
        os.close(fd)


def test_update_waits_for_the_package_lists_lock(scratch_apt):
    """apt-get update ignores DPkg::Lock::Timeout for the lists' lock: the script retries."""
    status, output = _run_holding_lock(
        scratch_apt["root"] / "lists" / "lock",
        "apt_get update -qq",
        scratch_apt["config"],
        "Waiting for another apt/dpkg process",
    )
    assert status == 0, output
    assert "Could not get lock" in output


def test_install_waits_for_the_dpkg_lock(scratch_apt):
    """apt-get install waits for dpkg's frontend lock itself (DPkg::Lock::Timeout)."""
    status, output = _run_holding_lock(
        scratch_apt["root"] / "dpkg" / "lock-frontend",
        "apt_get install -y",
        scratch_apt["config"],
        "Waiting for cache lock",
    )
    assert status == 0, output
