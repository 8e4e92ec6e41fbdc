"""moto_server that handles one request at a time.

moto's in-memory models are not thread-safe, but moto_server serves every request on its own
thread. Under load two requests interleave: rendering an AuthorizeSecurityGroupIngress answer reads
the whole EC2 tag store (each rule's tags) while another thread adds a new volume's tags one key at a
time, so the read fails with "dictionary changed size during iteration" and moto answers HTTP 500
after it has stored the rule. The AWS SDK then re-sends the call and gets InvalidPermission.Duplicate,
which fails the Terraform apply (see test/support/moto.test.ts). A lock around the application keeps
moto's own server, its routing and its answers, and takes the interleaving away.

The one exception is moto's recorder API (/moto-api/recorder/...): replay-recording sends every
recorded request back to this same server over HTTP and waits for each answer, so it must not hold
the lock its requests queue on. The recorder touches only its own file, never the models.

Usage: serial-moto-server.py HOST PORT   (PORT 0: the kernel picks one; the address is printed)
"""

import collections
import signal
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


class OneRequestAtATime:
    """Serves one request at a time, and answers a retried SDK call the way it answered the call.

    The AWS SDKs send one `amz-sdk-invocation-id` for every attempt of one call. A call this server
    already answered with success comes back only when its client lost the answer; serving it again
    would create what the first attempt created a second time (a duplicate VPC, a Duplicate rule).
    The first answer is given again instead. Failed answers are not kept: their retries run again.
    """

    KEPT_ANSWERS = 20000

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.answers = collections.OrderedDict()

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/moto-api/recorder/"):
            return self.app(environ, start_response)
        invocation = environ.get("HTTP_AMZ_SDK_INVOCATION_ID")
        with self.lock:
            if invocation is not None and invocation in self.answers:
                status, headers, body = self.answers[invocation]
                start_response(status, headers)
                return [body]
            answered = {}

            def remember(status, headers, exc_info=None):
                answered["status"], answered["headers"] = status, headers
                return start_response(status, headers, exc_info)

            # The answer is consumed inside the lock: moto builds it from the shared models.
            body = b"".join(self.app(environ, remember))
            if invocation is not None and answered.get("status", "").startswith("2"):
                self.answers[invocation] = (answered["status"], answered["headers"], body)
                while len(self.answers) > self.KEPT_ANSWERS:
                    self.answers.popitem(last=False)
            return [body]


def main(host: str, port: int) -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, OneRequestAtATime(app), threaded=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
