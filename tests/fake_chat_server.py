"""A stand-in for `transformers serve` in tests/test_serving.py: answers in milliseconds, misbehaves on request.

    python fake_chat_server.py PORT MODE [PID_FILE]

MODE is a comma-separated set of: ``ok`` (healthy, lists one model), ``vllm`` (lists it as vLLM does),
``unhealthy`` (/health answers 503 forever), ``silent`` (accepts chat requests and never answers),
``child`` (starts a sleeping child process first), ``stubborn`` (ignores SIGTERM), ``locked`` (wants the API key
"secret"). With PID_FILE, the pids of the
server and of its child are written there, one a line.
"""

import json
import signal
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    port, modes = int(sys.argv[1]), set(sys.argv[2].split(","))
    pids = [str(__import__("os").getpid())]
    if "stubborn" in modes:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if "child" in modes:
        child = subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, "
                                  "signal.SIG_IGN); time.sleep(600)"])
        pids.append(str(child.pid))
    owner = "vllm" if "vllm" in modes else "local"

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if "locked" in modes and self.headers.get("Authorization") != "Bearer secret":
                self.reply(401, {"error": "invalid api key"})
            elif self.path == "/health":
                self.reply(503 if "unhealthy" in modes else 200, {"status": "ok"})
            elif self.path == "/v1/models":
                model = {"id": "fake-model", "object": "model", "created": 0, "owned_by": owner}
                if owner == "local":
                    model["status"] = {"value": "loaded"}
                self.reply(200, {"object": "list", "data": [model]})
            else:
                self.reply(404, {"detail": "Not Found"})

        def do_POST(self):
            if "silent" in modes:
                time.sleep(600)
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            if body.get("stream"):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for delta in ({"role": "assistant"}, {"content": "fake"}, {"content": " reply"}, {}):
                    time.sleep(0.05)
                    chunk = {"choices": [{"delta": delta, "finish_reason": None if delta else "stop"}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                return
            self.reply(200, {"choices": [{"message": {"role": "assistant", "content": "fake"}}]})

        def reply(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    if len(sys.argv) > 3:
        with open(sys.argv[3], "w") as out:
            out.write("\n".join(pids) + "\n")
    print(f"fake server on port {port}, modes {sorted(modes)}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
