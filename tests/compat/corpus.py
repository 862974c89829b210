"""The corpus of tests/compat: real projects' test suites, each pinned to a version on PyPI,
with the test dependencies it needs and the part of the suite run_compat.py runs.

Chosen for kinds of code our own tests lack (threads, asyncio and trio event loops,
sockets and TLS, subprocesses, code generation, hypothesis, C extensions); see
docs/compatibility.md for what each found.
"""

# name: PyPI name and pinned version; deps: test dependencies; args: what follows the pytest
# options (a subset where the whole suite is slow or needs more than localhost); touches: the
# boundary categories the suite exercises (checked by reading the recording's events); python:
# interpreter options before -m pytest.
PACKAGES = [
    {"name": "cachetools", "version": "8.0.2", "deps": ["pytest"], "args": ["tests"]},
    {"name": "humanize", "version": "4.17.0", "deps": ["pytest>=9", "freezegun", "pytest-benchmark"],
     "args": ["tests"]},
    {"name": "pluggy", "version": "1.7.0", "deps": ["pytest"], "args": ["testing"]},
    {"name": "packaging", "version": "26.4", "deps": ["pytest", "pretend", "hypothesis", "tomli_w"],
     "args": ["tests"]},
    {"name": "attrs", "version": "26.1.0", "deps": ["pytest", "hypothesis", "pympler", "cloudpickle"],
     "args": ["tests"]},
    {"name": "portend", "version": "3.2.1", "deps": ["pytest"], "args": ["test_portend.py"]},
    {"name": "requests", "version": "2.34.2", "deps": ["pytest"],
     # test_use_proxy_from_environment needs pytest-httpbin's fixture: deselected
     "args": ["tests/test_lowlevel.py", "tests/test_testserver.py", "-k", "not test_use_proxy_from_environment"]},
    {"name": "setuptools-scm", "version": "10.3.4",
     "deps": ["pytest", "pytest-timeout", "build", "rich", "typing-extensions"],
     # the git-driven files; test_integration.py builds wheels and runs `pip download` (PyPI)
     "args": ["testing_scm/test_setuptools_git.py", "testing_scm/test_file_finders.py",
              "testing_scm/test_basic_api.py", "testing_scm/test_regressions.py"]},
    # --- added for issue 14: kinds of code the first eight lack ---
    # CLI framework: CliRunner, isolated filesystems, surrogate-escaped file names, prompts
    {"name": "click", "version": "8.5.1", "deps": ["pytest"], "args": ["tests"]},
    # template engines: compiled templates, async rendering, bytecode caches
    {"name": "jinja2", "version": "3.1.6", "deps": ["pytest", "trio"], "args": ["tests"]},
    {"name": "mako", "version": "1.4.3", "deps": ["pytest", "markupsafe", "babel"], "args": ["test"]},
    # date/time and time zones (tzfile parsing, tz pickling, freezegun, hypothesis)
    {"name": "python-dateutil", "version": "4.0.0", "deps": ["pytest", "pytest-cov", "hypothesis", "freezegun", "attrs"],
     # the whole suite takes over 3 minutes here: time zones, parser, relativedelta, isoparser
     # and the hypothesis property tests
     "args": ["tests/test_tz.py", "tests/test_parser.py", "tests/test_relativedelta.py", "tests/test_isoparser.py",
              "tests/property"]},
    {"name": "pytz", "version": "2026.6", "deps": ["pytest"], "args": ["pytz/tests"]},
    {"name": "arrow", "version": "1.4.0", "deps": ["pytest", "pytest-mock", "pytz", "simplejson", "dateparser"],
     # tox.ini's addopts want pytest-cov and write junit.xml
     "args": ["-o", "addopts=", "tests"]},
    # file locking: fcntl locks, threads contending, timeouts, asyncio locks
    {"name": "filelock", "version": "3.16.1",
     "deps": ["pytest", "pytest-asyncio", "pytest-mock", "pytest-timeout"],
     # test_virtualenv.py builds a virtualenv
     "args": ["tests", "--ignore=tests/test_virtualenv.py"]},
    # TLS on localhost: certificates made on the fly, handshakes between threads
    {"name": "trustme", "version": "1.2.1", "deps": ["pytest", "pyopenssl", "service-identity", "cryptography"],
     "args": ["tests"]},
    # an asyncio HTTP server and client on localhost, plain and TLS (tornado/test/test.crt)
    # (its HTTP server/client files need tornado's own runner, which silences tornado.access:
    # under pytest 170 of their tests fail "Unexpected logs found", plain as recorded; left out)
    {"name": "tornado", "version": "6.6.1", "deps": ["pytest"],
     "args": ["tornado/test/iostream_test.py", "tornado/test/tcpserver_test.py", "tornado/test/tcpclient_test.py",
              "tornado/test/netutil_test.py", "tornado/test/locks_test.py", "tornado/test/queues_test.py",
              "-k", "not WebHTTP"]},
    # HTTP/1.1 state machine; test_against_stdlib_http runs http.server on localhost
    {"name": "h11", "version": "0.16.0", "deps": ["pytest"], "args": ["h11/tests"]},
    # sqlite3 everywhere
    {"name": "sqlite-utils", "version": "4.2.1", "deps": ["pytest", "hypothesis", "cogapp"],
     "args": ["tests", "--ignore=tests/test_docs.py", "--ignore=tests/test_cli.py", "--ignore=tests/test_gis.py"]},
    # logging-heavy: processors, stdlib logging integration, rich console output
    {"name": "structlog", "version": "26.1.0",
     "deps": ["pytest", "pytest-asyncio", "simplejson", "time-machine", "rich", "pretend"],
     # pytest-randomly (its own test group) is left out: it shuffles the order per run
     "args": ["tests"]},
    # persistent data structures: hypothesis, pickle and copy of everything, a C extension
    {"name": "pyrsistent", "version": "0.20.0", "deps": ["pytest", "hypothesis"], "args": ["tests"]},
    # code that prints reprs and tables
    {"name": "more-itertools", "version": "11.2.1", "deps": ["pytest"], "args": ["tests"]},
    {"name": "tabulate", "version": "0.10.0", "deps": ["pytest", "wcwidth"], "args": ["test"]},
    # --- added in the sixth session: more kinds the corpus lacked ---
    # retries: sleeps, clocks, wait strategies, asyncio and tornado coroutines, logging
    {"name": "tenacity", "version": "9.2.1", "deps": ["pytest", "tornado", "typeguard"], "args": ["tests"]},
    # time patching: freezegun swaps the clocks (ours) in every loaded module and back
    {"name": "freezegun", "version": "1.5.5", "deps": ["pytest"], "args": ["tests"]},
    # process pools: fork, forkserver and spawn children, pipes, signals, timeouts
    {"name": "pebble", "version": "5.2.3", "deps": ["pytest"],
     "args": ["test/test_process_pool_fork.py", "test/test_concurrent_process_fork.py",
              "test/test_process_pool_spawn.py", "test/test_thread_pool.py"]},
    # a cache on sqlite3 and files, shared between threads and processes
    {"name": "diskcache", "version": "5.6.3", "deps": ["pytest"],
     "args": ["tests", "--ignore=tests/test_djangocache.py", "--ignore=tests/test_doctest.py", "-p", "no:doctest",
              "-o", "addopts="]},
    # pickling of everything: code, closures, modules, sessions
    # (six of its files are scripts that fail to collect under pytest, plain as recorded)
    {"name": "dill", "version": "0.4.1", "deps": ["pytest"],
     "args": ["--pyargs", "dill.tests", "--continue-on-collection-errors"]},
    # locale data files, dates, numbers, time zones, message catalogs
    {"name": "babel", "version": "2.19.0", "deps": ["pytest", "freezegun", "tzdata"], "args": ["tests"]},
    # WSGI: the dev server as a child process, HTTP over sockets, TLS, reloader
    {"name": "werkzeug", "version": "3.1.9",
     "deps": ["pytest", "pytest-timeout", "ephemeral-port-reserve", "watchdog", "cryptography", "cffi"],
     "args": ["tests"]},
    # async frameworks
    {"name": "trio", "version": "0.35.0", "deps": ["pytest", "trustme", "pyopenssl", "cryptography"],
     # trio's tests live in the package; run from the installed one (--pyargs); the socket,
     # SSL, sync, timeouts and threads files
     # test_run_in_trio_thread_ki (a SIGINT raced against two threads) failed plain once on
     # the loaded machine: deselected
     "args": ["--pyargs", "trio._tests.test_sync", "trio._tests.test_timeouts", "trio._tests.test_ssl",
              "trio._tests.test_highlevel_open_tcp_listeners", "trio._tests.test_threads",
              "-k", "not test_run_in_trio_thread_ki"]},
    {"name": "anyio", "version": "4.16.0",
     "deps": ["pytest", "pytest-mock", "pytest-timeout", "trustme", "hypothesis", "psutil", "trio"],
     "args": ["tests/test_synchronization.py", "tests/test_taskgroups.py", "tests/streams/test_tls.py",
              "tests/test_to_thread.py"]},
    # --- added in the seventh session ---
    # progress bars: the terminal's width, clocks read all the time, a monitor thread that
    # wakes up to refresh, asyncio and thread pools (rich's sdist has no tests)
    {"name": "tqdm", "version": "4.70.1", "deps": ["pytest", "pytest-timeout", "pytest-asyncio"], "args": ["tests"]},
    # a C extension (libyaml bindings) beside its pure-Python twin, data files read per test
    {"name": "pyyaml", "version": "6.0.4", "deps": ["pytest"], "args": ["tests"]},
    # --- added in the tenth session: kinds still missing ---
    # C-level stack switching (greenlets switch frames under the tracer, threads, GC of frames)
    {"name": "greenlet", "version": "3.2.4", "deps": ["pytest", "objgraph", "psutil"],
     "args": ["--pyargs", "greenlet.tests"]},
    # pseudo-terminals: forkpty children running shells and Python, read through a pty
    {"name": "pexpect", "version": "4.9.0", "deps": ["pytest"], "args": ["tests"]},
    # the system as /proc tells it: processes, memory, CPU times, file descriptors, sockets
    # file system events: inotify through ctypes, observer threads, and pytest --cov in its addopts
    {"name": "watchdog", "version": "6.0.0", "deps": ["pytest", "pytest-cov", "pytest-timeout", "flaky"],
     "args": ["tests"]},
    # object proxies and decorators in C (wrapt's ObjectProxy, FunctionWrapper, weak proxies):
    # what a program sees of wrapped objects, as the recorder's own wrappers must pass for them
    # (its conftest implements pytest_pycollect_makemodule(path), which pytest 8 removed)
    {"name": "wrapt", "version": "1.17.2", "deps": ["pytest<8"], "args": ["tests"]},
    # a Cython serializer: buffers, memoryviews, ext types, streaming unpacking
    {"name": "msgpack", "version": "1.1.0", "deps": ["pytest"], "args": ["test"]},
    # SSH over socket pairs: a client and a server Transport, each with its own thread, talking
    # through loopback sockets; key exchange and ciphers in cryptography's Rust, bcrypt, nacl
    {"name": "paramiko", "version": "5.1.0", "deps": ["pytest", "pytest-relaxed", "icecream", "invoke"],
     "args": ["tests"]},
    # Python subprocesses driven over pipes (popen gateways), channels served by threads and an
    # execution model of its own (thread pools, main-thread execution), and rsync between them
    {"name": "execnet", "version": "2.1.2", "deps": ["pytest", "pytest-timeout"], "args": ["testing"]},
    # asyncio over a thread per connection: every sqlite3 call runs in the connection's thread,
    # its result handed back to the event loop through a future (call_soon_threadsafe)
    {"name": "aiosqlite", "version": "0.22.1", "deps": ["pytest"], "args": ["aiosqlite/tests/smoke.py"]},
    # file I/O through asyncio's default thread pool (run_in_executor): files, os calls, tempfiles,
    # stdio, and many reads and writes in flight at once
    {"name": "aiofiles", "version": "25.1.0", "deps": ["pytest", "pytest-asyncio"], "args": ["tests"]},
    # asyncio HTTP server and client whose parser and structures are C extensions (llhttp,
    # multidict, yarl, frozenlist): plain and TLS connections, chunked and compressed bodies,
    # websockets, sendfile, through aiohttp's own pytest plugin (a loop per test)
    {"name": "aiohttp", "version": "3.14.5",
     "deps": ["pytest", "pytest-mock", "pytest-timeout", "freezegun", "trustme", "brotli", "coverage"],  # coverage: a warning filter names it
     # pytest.ini's addopts ask for xdist and coverage; its markers leave out dev_mode/autobahn/internal
     "args": ["-o", "addopts=", "-m", "not dev_mode and not autobahn and not internal",
              "tests/test_client_functional.py", "tests/test_web_functional.py",
              "tests/test_web_sendfile_functional.py", "tests/test_web_websocket_functional.py"]},
    # terminal capabilities: curses' terminfo, pseudo-terminals, forked children writing to
    # them, keyboard sequences read with timeouts, terminal size queries
    {"name": "blessed", "version": "1.53.0", "deps": ["pytest"],
     # tox.ini's addopts ask for pytest-cov
     "args": ["-o", "addopts=", "tests", "--ignore=tests/test_benchmarks.py"]},
    {"name": "psutil", "version": "7.2.2", "deps": ["pytest", "pytest-subtests"],
     # -P and importlib: the sdist's own psutil/ (not built) must not shadow the installed one;
     # -c /dev/null: its pytest settings ask for plugins and options of a newer pytest
     "python": ["-P"],
     "args": ["-c", "/dev/null", "--rootdir", ".", "--import-mode=importlib", "tests/test_misc.py",
              "tests/test_system.py", "tests/test_process.py", "tests/test_posix.py", "tests/test_linux.py"]},
    # an HTTP client (sync and async, over anyio and trio) against a uvicorn server that a
    # fixture runs in a thread of the test process, plain and TLS (trustme), HTTP/2 framing,
    # decoders in C (brotli, zstandard), proxies' environment, its click/rich command line
    {"name": "httpx", "version": "0.28.1",
     "deps": ["pytest", "trustme", "cryptography", "uvicorn", "trio", "chardet", "brotli", "zstandard", "h2",
              "socksio", "rich", "click", "pygments"],
     "args": ["tests"]},
    # an ORM over sqlite3 (files and memory), Cython result rows, a connection pool with
    # threads and timeouts, asyncio over aiosqlite through greenlet, its own pytest plugin
    {"name": "sqlalchemy", "version": "2.0.44", "deps": ["pytest", "aiosqlite", "greenlet", "typing-extensions"],
     # addopts: -v (a line per test) and native tracebacks; the rest of its settings as they are
     "args": ["-o", "addopts=-p warnings -p logging --strict-markers", "test/engine/test_pool.py",
              "test/engine/test_transaction.py", "test/dialect/sqlite", "test/orm/test_unitofwork.py",
              "test/orm/test_session.py", "test/ext/asyncio/test_session.py", "test/ext/asyncio/test_engine.py",
              "test/base/test_utils.py"]},
    # a grab-bag of utilities: caches, atomic file saves, spooled files, socket wrappers over
    # socketpairs, gc helpers, traceback parsing, a tracing debug helper, statistics
    {"name": "boltons", "version": "26.2.0", "deps": ["pytest"], "args": ["tests"]},
    # (de)serialization: dates and time zones (zoneinfo's files), decimals, uuids, ip
    # addresses, simplejson's C speedups, error reports built from nested dicts
    {"name": "marshmallow", "version": "4.4.0", "deps": ["pytest", "simplejson"], "args": ["tests"]},
    # graph algorithms: seeded random generators, sets and dicts of nodes everywhere,
    # thousands of small tests (numpy and scipy absent: those tests skip themselves)
    {"name": "networkx", "version": "3.6.1", "deps": ["pytest"],
     "args": ["networkx/classes", "networkx/generators", "networkx/algorithms/shortest_paths",
              "networkx/algorithms/flow", "networkx/algorithms/community", "networkx/algorithms/isomorphism",
              "networkx/algorithms/traversal", "networkx/algorithms/components"]},
    # --- added in the twenty-second session ---
    # an HTTP client against its own servers in threads: TLS with certificates on disk and
    # made on the fly, socket-level servers that misbehave on purpose, timeouts, retries,
    # proxies, chunked bodies, HTTP/2 through h2
    {"name": "urllib3", "version": "2.8.0",
     "deps": ["pytest", "pytest-timeout", "pytest-socket", "trustme", "cryptography", "pyopenssl", "idna", "h2",
              "httpx", "hypercorn", "quart", "quart-trio", "trio", "anyio[trio]", "pysocks", "tornado"],
     "args": ["test/test_connectionpool.py", "test/test_response.py", "test/test_util.py",
              "test/test_ssltransport.py", "test/with_dummyserver/test_socketlevel.py",
              "test/with_dummyserver/test_chunked_transfer.py"]},
    # a web framework: its test client, sessions signed by itsdangerous, templates, blueprints,
    # its click command line with .env files, logging, async views through asgiref
    {"name": "flask", "version": "3.1.3", "deps": ["pytest<9", "asgiref", "greenlet", "python-dotenv"],
     "args": ["tests"]},
    # syntax highlighting: hundreds of lexers imported on demand, example files read and
    # their expected outputs compared, regular expressions compiled by the thousand
    {"name": "pygments", "version": "2.21.0", "deps": ["pytest", "wcag-contrast-ratio"],
     "args": ["tests", "--ignore=tests/examplefiles", "--ignore=tests/snippets"]},
    # JSON in C and Python: reprs of floats and decimals, big ints, surrogates, ordered
    # pairs hooks, errors carrying positions
    {"name": "simplejson", "version": "4.3.0", "deps": ["pytest"], "args": ["simplejson/tests"]},
    # a fake file system: it patches os, io, pathlib, shutil and open in every loaded module
    # (ours wrap the same functions), fake file descriptors, fake stat times from the clock
    {"name": "pyfakefs", "version": "6.3.2", "deps": ["pytest"], "args": ["pyfakefs/tests", "pyfakefs/pytest_tests"]},
    # pytest's own suite: pytester runs pytest in process and in subprocesses, output
    # captured at the file descriptors (dup2 of 1 and 2), assertion rewriting writes .pyc
    # files, faulthandler, threads' and unraisable exceptions, the cache folder
    {"name": "pytest", "version": "8.4.2",
     "deps": ["argcomplete", "attrs", "hypothesis", "mock", "requests", "setuptools", "xmlschema", "pygments"],
     "args": ["testing/test_capture.py", "testing/test_assertrewrite.py", "testing/test_tmpdir.py",
              "testing/test_terminal.py", "testing/test_faulthandler.py", "testing/test_threadexception.py",
              "testing/test_unraisableexception.py", "testing/test_monkeypatch.py", "testing/test_cacheprovider.py"]},
    # a code formatter: its cache in the user's cache folder, files formatted in a process
    # pool, click's command line, tokenizing and ASTs of thousands of lines
    {"name": "black", "version": "26.10.1", "deps": ["pytest<9", "aiohttp"],
     "args": ["tests/test_black.py", "tests/test_format.py", "tests/test_concurrency_manager_shutdown.py"]},
    # subprocesses through pseudo-terminals and pipes, a thread per stream, signals,
    # timeouts, background processes piped into each other
    {"name": "sh", "version": "2.4.0", "deps": ["pytest"], "args": ["tests"]},
    # --- added in the twenty-third session ---
    # an ASGI framework through its TestClient (an anyio portal: the app runs in a thread's
    # event loop), websockets, file responses, sessions, templates, under blockbuster (which
    # wraps os, io and socket functions to catch blocking calls, as we wrap them)
    {"name": "starlette", "version": "1.10.0",
     "deps": ["pytest", "httpx<0.29", "httpx2", "trio", "anyio", "itsdangerous", "jinja2", "python-multipart", "pyyaml",
              "opentelemetry-api", "opentelemetry-sdk", "blockbuster"],
     "args": ["tests"]},
    # validation in a Rust extension (pydantic-core): error reprs, JSON schemas, dataclasses,
    # time-machine's C hooks on the clocks, dates and time zones
    {"name": "pydantic", "version": "2.14.4",
     "deps": ["pytest", "pytest-run-parallel", "pytz", "dirty-equals", "pytest-mock", "faker", "jsonschema", "packaging", "time-machine",
              "pytest-benchmark"],
     "args": ["tests", "--ignore=tests/mypy", "--ignore=tests/benchmarks", "--ignore=tests/test_docs.py"]},
    # a program with its own tracer (sys.settrace through a C tracer on 3.11, sys.monitoring
    # on 3.12+) measuring code in process, its data in sqlite3, HTML reports, subprocesses
    {"name": "coverage", "version": "7.18.0", "deps": ["pytest", "flaky", "hypothesis", "pygments"],
     "args": ["-o", "addopts=-p no:legacypath", "tests/test_api.py", "tests/test_arcs.py", "tests/test_coverage.py",
              "tests/test_data.py", "tests/test_sqlitedb.py", "tests/test_html.py", "tests/test_collector.py",
              "tests/test_context.py", "tests/test_parser.py"]},
    # parallel map over processes (loky's worker processes, started fresh) and threads,
    # a disk cache of function results, hashing of arbitrary objects, pickling of closures
    {"name": "joblib", "version": "1.6.0", "deps": ["pytest", "threadpoolctl", "pytest-asyncio", "pytest-timeout"],
     "args": ["-o", "addopts=", "joblib/test/test_memory.py", "joblib/test/test_hashing.py",
              "joblib/test/test_parallel.py", "joblib/test/test_func_inspect.py", "joblib/test/test_disk.py",
              "joblib/test/test_logger.py", "joblib/test/test_store_backends.py"]},
    # a CLI framework over click: rich's help screens and tracebacks, shell completion
    # scripts, programs run as subprocesses of the tests
    {"name": "typer", "version": "0.29.3", "deps": ["pytest", "rich", "shellingham", "coverage"], "args": ["tests"]},
    # JSON Schema validation: the official test suite's thousands of cases read from files,
    # references resolved across documents, format checkers
    {"name": "jsonschema", "version": "4.26.0", "deps": ["pytest", "jsonpath-ng"], "args": ["jsonschema/tests"]},
]
