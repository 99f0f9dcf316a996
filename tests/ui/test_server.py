"""The dashboard server process's own set-up (revintel.ui.server)."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_sigusr1_prints_every_threads_stack_and_the_process_goes_on() -> None:
    script = textwrap.dedent(
        """
        import os, signal, threading, time
        from revintel.ui.server import dump_stacks_on_sigusr1

        def waiting_for_something():
            release.wait()

        release = threading.Event()
        worker = threading.Thread(target=waiting_for_something, name="a-stuck-thread")
        worker.start()
        dump_stacks_on_sigusr1()
        os.kill(os.getpid(), signal.SIGUSR1)
        time.sleep(0.2)
        release.set()
        worker.join()
        print("still running")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "still running"
    assert "Current thread" in done.stderr  # the main thread, which received the signal
    assert "waiting_for_something" in done.stderr  # and the other thread, where it waits


def test_index_html_tells_streamlit_where_the_server_is_before_its_scripts(tmp_path) -> None:
    from revintel.ui.server import BACKEND_CONFIG, index_html

    (tmp_path / "index.html").write_text(
        '<!doctype html><html><head><script type="module" src="./static/js/index.js"></script>'
        "</head><body></body></html>"
    )
    html = index_html(tmp_path)
    assert html is not None
    assert html.index(BACKEND_CONFIG) < html.index('<script type="module"')
    assert html.replace(BACKEND_CONFIG, "") == (tmp_path / "index.html").read_text()
    (tmp_path / "index.html").write_text("<html><body>another layout</body></html>")
    assert index_html(tmp_path) is None
    assert index_html(tmp_path / "missing") is None


def test_every_page_url_but_the_default_is_served_streamlits_page_with_the_config() -> None:
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from revintel.ui.server import BACKEND_CONFIG, page_routes
    from revintel.ui.views import PAGES

    client = TestClient(Starlette(routes=page_routes()))
    for spec in PAGES:
        response = client.get(f"/{spec.url_path}")
        if spec.default:
            assert response.status_code == 404  # "/" is Streamlit's own, found at once
            continue
        assert response.status_code == 200, spec.url_path
        assert response.headers["cache-control"] == "no-cache"
        assert response.text.startswith("<!--")  # Streamlit's index.html, licence first
        assert BACKEND_CONFIG in response.text and "./static/js/index." in response.text
    assert client.get("/executive-overview/_stcore/health").status_code == 404


def test_the_asgi_entry_is_the_app_script_with_the_page_routes() -> None:
    from streamlit.web.server.app_discovery import discover_asgi_app

    from revintel.ui import launch

    found = discover_asgi_app(launch.ASGI_SCRIPT)
    assert found.is_asgi_app and found.app_name == "app"
