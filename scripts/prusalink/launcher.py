#!/usr/bin/env python3
"""Run the real PrusaLink 0.8.1 daemon, made safe for tests and CI.

    <prusalink-venv>/bin/python launcher.py -f -c prusalink.ini -i

Run it with the venv's python; the arguments are those of the `prusalink`
command. Before PrusaLink builds its adapter this:

* replaces prusa.link.printer_adapter.prusa_link.ServiceDiscovery (the
  unconditional zeroconf registration of _prusalink/_http/_octoprint._tcp,
  i.e. mDNS multicast on every interface) with a no-op class, so nothing
  leaves the loopback interface;
* removes "/tmp" from prusa.link.const.BLACKLISTED_PATHS (belt and braces:
  with-server.sh keeps its storage outside /tmp anyway; a storage under a
  blacklisted path is silently unavailable and uploads then fail with 500).

PrusaLink itself is not modified. See shared/specs/prusalink.md §2.
"""
import sys


class NoServiceDiscovery:
    """Stands in for prusa.link.service_discovery.ServiceDiscovery: it
    registers nothing, opens no socket and starts no thread."""

    def __init__(self, port, *args, **kwargs):
        self.port = port

    def unregister(self, *args, **kwargs):
        pass

    def __getattr__(self, name):
        # Any other method PrusaLink might call is a no-op too.
        return lambda *args, **kwargs: None


def patch():
    # const first: storage.py imports the very same list object by name, so
    # editing it in place also covers a module that was imported before.
    import prusa.link.const as const
    while "/tmp" in const.BLACKLISTED_PATHS:
        const.BLACKLISTED_PATHS.remove("/tmp")

    # __main__ must come before the adapter modules: it sets PrusaLink's
    # logger class before they create their loggers. It imports the daemon,
    # which imports printer_adapter.prusa_link, which binds ServiceDiscovery
    # as a module global; PrusaLink() looks it up at construction time.
    import prusa.link.__main__ as link_main
    import prusa.link.printer_adapter.prusa_link as adapter
    import prusa.link.service_discovery as discovery

    if not hasattr(adapter, "ServiceDiscovery"):
        sys.exit("launcher.py: prusa.link.printer_adapter.prusa_link has no "
                 "ServiceDiscovery; this PrusaLink is not 0.8.1")
    adapter.ServiceDiscovery = NoServiceDiscovery
    discovery.ServiceDiscovery = NoServiceDiscovery
    sys.stderr.write("launcher.py: zeroconf service discovery disabled; storage "
                     "blacklist %s\n" % (const.BLACKLISTED_PATHS,))
    return link_main


def main():
    link_main = patch()
    sys.argv = ["prusalink"] + sys.argv[1:]   # main() parses sys.argv itself
    return link_main.main()


if __name__ == "__main__":
    sys.exit(main())
