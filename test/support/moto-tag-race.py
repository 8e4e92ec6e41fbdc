"""Shows the moto race that serial-moto-server.py takes away: one thread reads the EC2 tag store
(as every answer that lists tags does) while another adds a resource's tags one key at a time.
Prints the number of reads that failed; exits 0 when it has run for the given seconds."""

import sys
import threading
import time

from moto import mock_aws
from moto.ec2.models import ec2_backends

sys.setswitchinterval(1e-6)  # switch threads often, so that the race shows in seconds
seconds = float(sys.argv[1])
failures = {}

with mock_aws():
    backend = ec2_backends["123456789012"]["us-east-2"]
    deadline = time.time() + seconds

    def tag_volumes():
        n = 0
        while time.time() < deadline:
            n += 1
            volume_id = f"vol-{n:017x}"
            backend.create_tags([volume_id], {f"k{i}": "v" for i in range(40)})
            backend.tags.pop(volume_id, None)

    def read_tags():
        while time.time() < deadline:
            try:
                backend.describe_tags(filters={"resource-id": ["sgr-0"]})
            except RuntimeError as error:
                failures[str(error)] = failures.get(str(error), 0) + 1

    threads = [threading.Thread(target=tag_volumes), threading.Thread(target=read_tags)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

for message, count in failures.items():
    print(f"{count}\t{message}")
