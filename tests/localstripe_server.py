"""Start localstripe for the tests: in memory only (it would otherwise pickle its whole
store to /tmp/localstripe.pickle on every write, slowing down as the store grows and
overwriting what `make run`'s own localstripe keeps there)."""

from localstripe import resources, server

resources.Store.dump_to_disk = lambda self: None

if __name__ == "__main__":
    server.start()
