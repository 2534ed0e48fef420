"""`posaid` on the command line: content check, and serve failing with one clear line."""

import socket

import pytest

from tests.fixtures import free_port, one_line_error, posaid


def test_content_check_passes_on_bundled_content():
    result = posaid("content", "check")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("content ok: ")


def test_content_check_names_the_fault(content_dir):
    t2 = content_dir / "flows" / "t2.toml"
    t2.write_text(t2.read_text(encoding="utf-8").replace('start = "power"', 'start = "nowhere"'), encoding="utf-8")
    result = posaid("content", "check", "--content", str(content_dir))
    assert result.exit_code == 1
    assert result.stderr.strip() == "flows/t2.toml: start: no step 'nowhere'"


def test_serve_with_unwritable_data_dir(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    line = one_line_error(posaid("serve", "--data", str(blocker / "data"), "--port", str(free_port())))
    assert line.startswith(f"Error: --data {blocker / 'data'}: cannot write there")


def test_serve_with_port_in_use(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        line = one_line_error(posaid("serve", "--data", str(tmp_path), "--port", str(port)))
    assert line == f"Error: --port {port}: 127.0.0.1:{port} is already in use (another posaid or program is on it)"


def test_serve_with_broken_content(tmp_path, content_dir):
    (content_dir / "codes" / "51.toml").write_text('code = "51"\n', encoding="utf-8")
    line = one_line_error(posaid("serve", "--data", str(tmp_path), "--content", str(content_dir), "--port", str(free_port())))
    assert line.startswith("Error: content: codes/51.toml: Object missing required field")


@pytest.mark.parametrize(("args", "message"), [
    (["--certfile", "/nonexistent.pem", "--keyfile", "/nonexistent.key"], "Error: --certfile /nonexistent.pem: no such file"),
    (["--certfile", "/nonexistent.pem"], "Error: certfile and keyfile go together"),
])
def test_serve_with_bad_tls_options(tmp_path, args, message):
    assert one_line_error(posaid("serve", "--data", str(tmp_path), *args)).startswith(message)


@pytest.mark.parametrize("command", [["forward"], ["shops", "list"], ["serve"]])
def test_a_bad_setting_in_the_environment_is_one_line_for_every_command(tmp_path, command):
    line = one_line_error(posaid(*command, "--data", str(tmp_path), POSAID_PORT="abc"))
    assert line == "Error: --port / POSAID_PORT: Expected `int`, got `str`"
