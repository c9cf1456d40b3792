#!/usr/bin/env python3
"""A smsgate API client in standard-library Python (docs/api.md).

Says hello, subscribes to events, submits one message, waits for its final state from the
event stream, reads its status and the binds, and prints each step. Exit code 0 when the
message was delivered, 1 otherwise. With --tls or --ca it connects over TLS (the ssl
module), checking the gateway's certificate against the system's CA certificates or the
ones in the --ca file, and its name against --server-name or the host of --addr.

With --inbox (the simulated SMSC's control address) it also plays a verification: starts
one (verify.start), waits for its SMS to reach the simulated handset, reads the code from
the handset's inbox as the user would, checks a wrong code and then the right one
(verify.check), and exits 0 only if that was approved.

    python3 examples/client.py --addr 127.0.0.1:7775 --token smsgate-sandbox-token
    python3 examples/client.py --addr 127.0.0.1:7775 --ca /etc/smsgate/tls/api.pem
    python3 examples/client.py --inbox http://127.0.0.1:8775
"""

import argparse
import itertools
import json
import re
import socket
import ssl
import sys
import urllib.request


class Client:
    """One connection: requests carry ids; answers are matched by id, events queued."""

    def __init__(self, addr, token, timeout=30.0, tls=None, server_name=None):
        """tls: None for plain TCP, else an ssl.SSLContext."""
        host, port = addr.rsplit(":", 1)
        host = host.strip("[]")
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        if tls is not None:
            self.sock = tls.wrap_socket(self.sock, server_hostname=server_name or host)
        self.reader = self.sock.makefile("r", encoding="utf-8", newline="\n")
        self.ids = itertools.count(1)
        self.answers = {}
        self.events = []
        self.hello = self.request("hello", version=1, token=token)

    def send(self, op, **fields):
        request_id = next(self.ids)
        line = json.dumps(dict(fields, id=request_id, op=op), ensure_ascii=False)
        self.sock.sendall(line.encode("utf-8") + b"\n")
        return request_id

    def read_line(self):
        line = self.reader.readline()
        if not line:
            raise ConnectionError("the gateway closed the connection")
        message = json.loads(line)
        if "close" in message:
            raise ConnectionError("closed: %(code)s: %(message)s" % message["close"])
        if "event" in message:
            self.events.append(message)
        else:
            self.answers[message["id"]] = message

    def wait(self, request_id):
        while request_id not in self.answers:
            self.read_line()
        answer = self.answers.pop(request_id)
        if not answer["ok"]:
            raise RuntimeError("%(code)s: %(message)s" % answer["error"])
        return answer["result"]

    def request(self, op, **fields):
        return self.wait(self.send(op, **fields))

    def next_event(self):
        while not self.events:
            self.read_line()
        return self.events.pop(0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inbox", metavar="URL",
                        help="the simulator's control address: also play a verification")

    parser.add_argument("--addr", default="127.0.0.1:7775")
    parser.add_argument("--token", default="smsgate-sandbox-token")
    parser.add_argument("--to", default="+81 90 1234 5678")
    parser.add_argument("--text", default="テスト配信 from Python")
    parser.add_argument("--tls", action="store_true", help="TLS, trusting the system's CAs")
    parser.add_argument("--ca", metavar="FILE", help="TLS, trusting the CAs in this PEM file")
    parser.add_argument("--server-name", help="the name the certificate must be issued to")
    args = parser.parse_args()

    tls = None
    if args.tls or args.ca:
        tls = ssl.create_default_context(cafile=args.ca)
    client = Client(args.addr, args.token, tls=tls, server_name=args.server_name)
    print("hello: token %(token)s, mode %(mode)s" % client.hello)
    client.request("ping")
    subscribed = client.request("events.subscribe", cursor=0)
    accepted = client.request("message.submit", to=args.to, text=args.text, **{"class": "otp"})
    message_id = accepted["message_id"]
    print("submitted: message %s (%s)" % (message_id, accepted["state"]))
    while True:
        event = client.next_event()["event"]
        if event["type"] == "message" and event["message_id"] == message_id:
            print("event: %s" % event["state"])
            if event["final"]:
                break
    status = client.request("message.status", message_id=message_id)
    print("status: %s via %s" % (status["state"], status["carrier"]))
    binds = client.request("binds.status")
    for carrier in binds["carriers"]:
        bound = sum(1 for b in carrier["binds"] if b["bound"])
        print("carrier %s: %d of %d binds up" % (carrier["carrier"], bound, len(carrier["binds"])))
    del subscribed
    delivered = status["state"] == "delivered"
    if args.inbox:
        return 0 if delivered and verify(client, args.to, args.inbox) else 1
    return 0 if delivered else 1


def wait_final(client, message_id):
    """Reads the event stream until message_id's final event; returns its state."""
    while True:
        event = client.next_event()["event"]
        if event["type"] == "message" and event["message_id"] == message_id and event["final"]:
            return event["state"]


def verify(client, to, inbox):
    """A verification as the backend and the user play it; True when approved."""
    started = client.request("verify.start", to=to, purpose="login", locale="en")
    verification_id = started["verification_id"]
    print("verify: started %s, its SMS is message %s" % (verification_id, started["message_id"]))
    # The handset has the SMS once the carrier took it: by its final event at the latest.
    wait_final(client, started["message_id"])
    url = "%s/inbox/%s" % (inbox.rstrip("/"), started["to"])
    with urllib.request.urlopen(url, timeout=10) as answer:
        messages = json.load(answer)
    code = max(re.findall(r"[0-9]+", messages[-1]["text"]), key=len)
    print("verify: the handset got the SMS; the code read from it has %d digits" % len(code))
    typo = "".join(str((int(d) + 1) % 10) for d in code)
    wrong = client.request("verify.check", verification_id=verification_id, code=typo)
    print("verify: a mistyped code: %s, %s attempt(s) left" % (wrong["status"], wrong["attempts_left"]))
    checked = client.request("verify.check", verification_id=verification_id, code=code)
    print("verify: %s" % checked["status"])
    status = client.request("verify.status", verification_id=verification_id)
    print("verify: status %s, delivery %s" % (status["status"], status["delivery"]))
    return wrong["status"] == "wrong" and checked["status"] == "approved"


if __name__ == "__main__":
    sys.exit(main())
