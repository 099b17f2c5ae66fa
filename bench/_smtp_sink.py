"""An SMTP server that accepts and discards every message, for benchmarks: aiosmtpd on
127.0.0.1 in a process of its own (so that it never shares a GIL with the sender being
measured). Prints its port, then serves until killed."""

import sys
import time

from aiosmtpd.controller import Controller


class Sink:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"


if __name__ == "__main__":
    controller = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]))
    controller.start()
    print(controller.port, flush=True)
    while True:
        time.sleep(3600)
