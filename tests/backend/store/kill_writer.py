"""Writer process for the kill test: saves items forever, printing each id once its save is acknowledged."""
import sys
import uuid

from backend.schemas.store import SaveRequest
from backend.store.repository import Store


def main(url: str, prefix: str) -> None:
    store = Store(url)
    counter = 0
    while True:
        item_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{prefix}-{counter}"))
        store.save(SaveRequest(id=item_id, kind="text", title=f"{prefix} {counter}", tags=["kill-test"],
                               payload={"counter": counter, "blob": "x" * 2000}))
        print(item_id, flush=True)
        counter += 1


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
