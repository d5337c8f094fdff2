"""The dataset can come from an http URL (here a loopback server serving one file)."""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import threading

from conftest import run_cli, small_spec, write_spec


def test_http_dataset_trains_and_records_its_fingerprint(capsys, tmp_path, synth_csv):
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(synth_csv.parent)
    )
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{synth_csv.name}"
        spec = write_spec(tmp_path, small_spec(synth_csv))
        code, summary, err = run_cli(
            capsys, "train", "--spec", str(spec), "--data", url, "--output", str(tmp_path / "s")
        )
    finally:
        server.shutdown()
        server.server_close()
    assert code == 0, err
    assert url in err  # the log names where the data came from
    card = json.loads((tmp_path / "s" / summary["digest"] / "model.json").read_text())
    assert card["data"]["location"] == url
    assert card["data"]["sha256"] == hashlib.sha256(synth_csv.read_bytes()).hexdigest()
