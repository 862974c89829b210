"""The boundary table: which functions are recorded, and how.

One entry per function, grouped by what they touch. The patcher applies every entry
from this table and nothing else; adding a function to the boundary means adding a
line here (and, for the rare call that needs more than its result recorded, a wrapper
named by ``special``).

Kinds:
  QUERY   reads the world: the result (or exception) is recorded and, in replay,
          returned without running the call.
  EFFECT  changes the world (sleep, unlink, close): recorded like a query; in replay
          it does not run.
"""
from __future__ import annotations

import sys

QUERY = "query"
EFFECT = "effect"
SHARED = "shared"  # an instance attribute that threads read and write without a lock

CLOCK = "clock"
RANDOM = "random"
PROCESS = "process"
FILE = "file"
SOCKET = "socket"
SUBPROCESS = "subprocess"
OUTPUT = "output"
THREADS = "threads"
PRESENTATION = "presentation"  # not a boundary call: how the program sees its own tracebacks


class Entry:
    """One line of the table. (A plain class: dataclasses cost start-up time in every
    recorded process.)"""

    __slots__ = ("module", "name", "kind", "category", "arguments", "special", "aliases", "leaf")

    def __init__(self, module: str, name: str, kind: str, category: str, arguments: bool = True,
                 special: str | None = None, aliases: tuple[str, ...] = (), leaf: bool = False) -> None:
        self.module = module  # the module that owns the function
        self.name = name  # attribute path inside it: "time", "datetime.now"
        self.kind = kind
        self.category = category
        self.arguments = arguments  # record the call's arguments (off for hot no-argument clocks)
        self.special = special  # "module.factory" in retrace_core.boundary, for custom wrappers
        self.aliases = aliases  # "module:attribute" copies that other modules take at import
        # A C function that never calls back into Python (a clock, getpid): nothing can be
        # nested inside it, so its wrapper skips setting the guard. The hottest calls.
        self.leaf = leaf

    def __repr__(self) -> str:
        return f"Entry({self.qualified_name!r}, {self.kind!r})"

    @property
    def qualified_name(self) -> str:
        return f"{self.module}.{self.name}"


def _group(module: str, kind: str, category: str, names: str, **options) -> tuple[Entry, ...]:
    return tuple(Entry(module, name, kind, category, **options) for name in names.split())


TABLE: tuple[Entry, ...] = (
    # -- clocks ------------------------------------------------------------------
    *_group("time", QUERY, CLOCK, """time time_ns monotonic monotonic_ns perf_counter
            perf_counter_ns thread_time thread_time_ns""", arguments=False, leaf=True),
    # less the CPU time of the tape's flusher thread
    *_group("time", QUERY, CLOCK, "process_time process_time_ns", arguments=False, special="clocks.ProcessTime"),
    *_group("time", QUERY, CLOCK, "localtime gmtime strftime mktime ctime asctime clock_gettime clock_gettime_ns"),
    Entry("time", "sleep", EFFECT, CLOCK),
    Entry("datetime", "datetime.now", QUERY, CLOCK, special="clocks.DatetimeClassmethod"),
    Entry("datetime", "datetime.utcnow", QUERY, CLOCK, special="clocks.DatetimeClassmethod"),
    Entry("datetime", "date.today", QUERY, CLOCK, special="clocks.DatetimeClassmethod"),
    # -- randomness --------------------------------------------------------------
    Entry("os", "urandom", QUERY, RANDOM, aliases=("random:_urandom",)),
    Entry("os", "getrandom", QUERY, RANDOM),
    Entry("random", "Random.seed", QUERY, RANDOM, special="randomness.Seed"),
    Entry("uuid", "uuid1", QUERY, RANDOM),
    Entry("uuid", "uuid4", QUERY, RANDOM, arguments=False),
    # keys and signatures made inside OpenSSL from its own randomness: key_material.py
    *(Entry(f"cryptography.hazmat.primitives.asymmetric.{kind}", "generate_private_key", QUERY, RANDOM,
            special="key_material.GeneratedKey") for kind in ("rsa", "ec", "dsa")),
    *(Entry(f"cryptography.hazmat.primitives.asymmetric.{kind.lower()}", f"{kind}PrivateKey.generate", QUERY,
            RANDOM, special="key_material.GeneratedKeyClassmethod")
      for kind in ("Ed25519", "Ed448", "X25519", "X448")),
    Entry("cryptography.x509.base", "CertificateBuilder.sign", QUERY, RANDOM, special="key_material.SignedCertificate"),
    Entry("cryptography.x509.base", "CertificateSigningRequestBuilder.sign", QUERY, RANDOM,
          special="key_material.SignedRequest"),
    Entry("cryptography.x509.base", "CertificateRevocationListBuilder.sign", QUERY, RANDOM,
          special="key_material.SignedRevocationList"),
    *(Entry(f"cryptography.hazmat.primitives.asymmetric.{kind}", f"rust_openssl.{kind}.{kind.upper()}PrivateKey.sign",
            QUERY, RANDOM, special="key_material.Signature") for kind in ("rsa", "ec", "dsa")),
    # post-quantum keys (paramiko's default key exchange, mlkem768x25519), an ML-KEM encapsulation,
    # an ML-DSA signature (hedged: random), Diffie-Hellman parameters and keys, RSA encryption
    *(Entry("cryptography.hazmat.primitives.asymmetric.mlkem", f"MLKEM{size}PrivateKey.generate", QUERY, RANDOM,
            special="key_material.GeneratedKeyClassmethod") for size in (768, 1024)),
    *(Entry("cryptography.hazmat.primitives.asymmetric.mlkem", f"rust_openssl.mlkem.MLKEM{size}PublicKey.encapsulate",
            QUERY, RANDOM, special="key_material.Encapsulation") for size in (768, 1024)),
    *(Entry("cryptography.hazmat.primitives.asymmetric.mldsa", f"MLDSA{size}PrivateKey.generate", QUERY, RANDOM,
            special="key_material.GeneratedKeyClassmethod") for size in (44, 65, 87)),
    *(Entry("cryptography.hazmat.primitives.asymmetric.mldsa", f"rust_openssl.mldsa.MLDSA{size}PrivateKey.{method}",
            QUERY, RANDOM, special="key_material.Signature") for size in (44, 65, 87) for method in ("sign", "sign_mu")),
    Entry("cryptography.hazmat.primitives.asymmetric.dh", "generate_parameters", QUERY, RANDOM,
          special="key_material.GeneratedParameters"),
    Entry("cryptography.hazmat.primitives.asymmetric.dh", "rust_openssl.dh.DHParameters.generate_private_key", QUERY,
          RANDOM, special="key_material.GeneratedKeyOfDeprecatedKind"),
    Entry("cryptography.hazmat.primitives.asymmetric.rsa", "rust_openssl.rsa.RSAPublicKey.encrypt", QUERY, RANDOM,
          special="key_material.Signature"),
    # a private key written with a password: salt and IV drawn by OpenSSL; PKCS#12 files likewise
    *(Entry(f"cryptography.hazmat.primitives.asymmetric.{module}", f"rust_openssl.{module}.{kind}PrivateKey.private_bytes",
            QUERY, RANDOM, special="key_material.EncryptedKey")
      for module, kind in (("rsa", "RSA"), ("ec", "EC"), ("dsa", "DSA"), ("dh", "DH"), ("ed25519", "Ed25519"),
                           ("ed448", "Ed448"), ("x25519", "X25519"), ("x448", "X448"))),
    *(Entry("cryptography.hazmat.primitives.asymmetric.mlkem", f"rust_openssl.mlkem.MLKEM{size}PrivateKey.private_bytes",
            QUERY, RANDOM, special="key_material.EncryptedKey") for size in (768, 1024)),
    *(Entry("cryptography.hazmat.primitives.asymmetric.mldsa", f"rust_openssl.mldsa.MLDSA{size}PrivateKey.private_bytes",
            QUERY, RANDOM, special="key_material.EncryptedKey") for size in (44, 65, 87)),
    *(Entry("cryptography.hazmat.primitives.serialization.pkcs12", name, QUERY, RANDOM, special="key_material.Signature")
      for name in ("serialize_key_and_certificates", "serialize_java_truststore")),
    # -- process facts -------------------------------------------------------------
    *_group("os", QUERY, PROCESS, """getpid getppid getuid geteuid getgid getegid getlogin
            uname cpu_count times getloadavg getcwd getcwdb""", arguments=False, leaf=True),
    *_group("os", QUERY, PROCESS, "get_terminal_size sched_getaffinity isatty getpriority getpgid getsid"),
    *_group("os", QUERY, PROCESS, "getpgrp getgroups getresuid getresgid", arguments=False, leaf=True),
    # the machine's configuration: page size, processors, clock ticks, limits (psutil, joblib)
    *_group("os", QUERY, PROCESS, "sysconf confstr", leaf=True),
    # the user and group databases (/etc/passwd, /etc/group, NSS): expanduser("~name"),
    # Path.owner(), getpass; a replay elsewhere has other users (sh's suite adds one to run
    # a command as it, and its replay found none)
    *_group("pwd", QUERY, PROCESS, "getpwuid getpwnam getpwall"),
    *_group("grp", QUERY, PROCESS, "getgrgid getgrnam getgrall"),
    Entry("os", "getgrouplist", QUERY, PROCESS),
    Entry("os", "initgroups", EFFECT, PROCESS),
    # a process's identity: a replay that changed its own lost the rights to its own files
    # (sh runs a command as another user from a forked child)
    *_group("os", EFFECT, PROCESS, "setuid setgid seteuid setegid setreuid setregid setresuid setresgid setgroups"),
    # A new session or process group (a forkpty child's): not made again by a replay
    *_group("os", EFFECT, PROCESS, "setpriority nice sched_setaffinity setsid setpgid setpgrp"),
    # limits and usage, the program's own and (prlimit) another process's by pid
    *_group("resource", QUERY, PROCESS, "getrlimit getrusage prlimit"),
    Entry("resource", "setrlimit", EFFECT, PROCESS),
    # both keep the folder they went to (working_folder.py)
    Entry("os", "chdir", EFFECT, PROCESS, special="working_folder.ChangeFolder"),
    Entry("os", "fchdir", EFFECT, PROCESS, special="working_folder.ChangeFolder"),
    # the import system's bytecode cache: written for real, never an event (bytecode_cache.py)
    Entry("importlib._bootstrap_external", "SourceFileLoader.set_data", EFFECT, FILE, special="bytecode_cache.Unrecorded"),
    # ...and written by the program itself (py_compile, compileall): one event, nothing written replayed
    Entry("importlib._bootstrap_external", "_write_atomic", EFFECT, FILE, special="bytecode_cache.WrittenAtomically"),
    # A Manager's server names each shared object '%x' % id(obj) in its replies, and its
    # clients send the name back: replayed, the server's objects lie at other addresses.
    Entry("multiprocessing.managers", "id", QUERY, PROCESS, arguments=False, leaf=True),
    # A timer thread of C that dumps the stacks (pytest's faulthandler_timeout): not run in a
    # replay, where it could only fire at other times, and where an engine snapshot, a fork
    # taken while it was armed, has no such thread: cancelling it there waited forever.
    *_group("faulthandler", EFFECT, PROCESS, "dump_traceback_later cancel_dump_traceback_later", arguments=False),
    # -- the filesystem as user code sees it --------------------------------------
    # glob's _StringGlobber (pathlib's glob from 3.13 on) keeps os.lstat and os.scandir from its import
    Entry("os", "stat", QUERY, FILE),
    Entry("os", "lstat", QUERY, FILE, aliases=("glob:_StringGlobber.lstat",)),
    *_group("os", QUERY, FILE, "fstat statvfs access readlink read pread lseek pipe dup"),
    # More calls on descriptors, which a replay does not have open (filelock's os.fchmod
    # of its lock file failed there), and calls that hand out new ones. readv and preadv are
    # left out: they fill the program's buffers, which a result does not say.
    *_group("os", QUERY, FILE, """fstatvfs fpathconf pathconf get_blocking get_inheritable ttyname
            device_encoding getxattr listxattr pipe2 openpty memfd_create eventfd"""),
    *_group("os", EFFECT, FILE, """fchmod fchown lchown lockf posix_fallocate posix_fadvise
            pwrite writev pwritev setxattr removexattr umask"""),
    Entry("os", "listdir", QUERY, FILE, special="listings.Listdir"),
    # os.open, os.rename and os.replace also tell written_code.py which files the program
    # wrote, and os.mkdir which folders it made
    Entry("os", "open", EFFECT, FILE, special="written_code.OsOpen"),
    Entry("os", "rename", EFFECT, FILE, special="written_code.OsRename"),
    Entry("os", "replace", EFFECT, FILE, special="written_code.OsRename"),
    Entry("os", "mkdir", EFFECT, FILE, special="written_code.OsMkdir"),
    # the program's closing leaves ours (the tape) open: fd_numbers.py
    *_group("os", EFFECT, FILE, "close closerange", special="fd_numbers.KeepOursOpen"),
    *_group("os", EFFECT, FILE, """dup2 rmdir unlink remove
            chmod chown utime symlink link truncate ftruncate fsync fdatasync sendfile
            set_inheritable set_blocking mkfifo"""),
    # File locks: another process (or open file) may hold one, and a replayed descriptor
    # is not open.
    *_group("fcntl", QUERY, FILE, "flock lockf fcntl"),
    # A terminal's settings and size (blessed sets a pseudo-terminal's up before its child runs)
    Entry("fcntl", "ioctl", QUERY, FILE, special="terminals.Ioctl"),
    *_group("termios", QUERY, FILE, "tcgetattr tcgetwinsize"),
    *_group("termios", EFFECT, FILE, "tcsetattr tcsendbreak tcdrain tcflush tcflow tcsetwinsize"),
    # a descriptor mapped into memory: its bytes are read without a call (mapped_files.py)
    Entry("mmap", "mmap", QUERY, FILE, special="mapped_files.MappedFile"),
    Entry("os", "scandir", QUERY, FILE, special="directories.Scandir", aliases=("glob:_StringGlobber.scandir",)),
    Entry("os", "DirEntry.stat", QUERY, FILE, special="directories.DirEntryStat"),
    *_group("os", QUERY, FILE, "DirEntry.is_dir DirEntry.is_file", special="directories.DirEntryFollowed"),
    # -- output: writes to fds 1 and 2 keep their bytes ---------------------------
    Entry("os", "write", EFFECT, OUTPUT, special="output.OsWrite"),
    Entry("sys", "stdout", EFFECT, OUTPUT, special="output.StandardStream"),
    Entry("sys", "stderr", EFFECT, OUTPUT, special="output.StandardStream"),
    Entry("sys", "stdin", QUERY, PROCESS, special="standard_input.StandardInput"),
    Entry("io", "open", QUERY, FILE, special="files.Open", aliases=("builtins:open",)),
    # raw files the program makes itself (tornado wraps a pipe's fd): raw_files.py
    Entry("_io", "FileIO", QUERY, FILE, special="raw_files.ProgramFileIO", aliases=("io:FileIO",)),
    # importlib's reads: recorded only for files the program wrote in this run
    Entry("_io", "open_code", QUERY, FILE, special="written_code.OpenCode", aliases=("io:open_code",)),
    Entry("_frozen_importlib_external", "_path_stat", QUERY, FILE, special="written_code.PathStat"),
    Entry("_frozen_importlib_external", "FileFinder._fill_cache", QUERY, FILE, special="written_code.FinderListing"),
    # -- sockets: name lookups, and the methods of socket.socket ---------------------
    *_group("socket", QUERY, SOCKET, """getaddrinfo getnameinfo gethostname gethostbyname
            gethostbyname_ex gethostbyaddr getfqdn getservbyname getservbyport getprotobyname"""),
    Entry("socket", "socketpair", QUERY, SOCKET, special="sockets.Socketpair"),
    Entry("socket", "dup", QUERY, SOCKET),  # socket.dup() and socket.fromfd(): the new fd
    Entry("socket", "socket.__init__", EFFECT, SOCKET, special="sockets.Create"),
    Entry("socket", "socket.accept", QUERY, SOCKET, special="sockets.Accept"),
    *_group("socket", QUERY, SOCKET, """socket.recv socket.recvfrom socket.recvmsg socket.getsockname
            socket.getpeername socket.getsockopt""", special="sockets.Method"),
    *_group("socket", QUERY, SOCKET, "socket.recv_into socket.recvfrom_into", special="sockets.ReadInto"),
    Entry("socket", "socket.recvmsg_into", QUERY, SOCKET, special="sockets.ScatterInto"),
    *_group("socket", EFFECT, SOCKET, "socket.send socket.sendall socket.sendto socket.sendmsg",
            special="sockets.Write"),
    *_group("socket", EFFECT, SOCKET, """socket.connect socket.connect_ex socket.bind socket.listen
            socket.shutdown socket.setsockopt socket.settimeout socket.setblocking socket.detach""",
            special="sockets.Method"),
    Entry("socket", "socket._real_close", EFFECT, SOCKET, special="sockets.Close"),
    # -- readiness waits: select, poll and epoll objects, and selectors' copies of them
    Entry("select", "select", QUERY, SOCKET, special="polling.Select"),
    Entry("select", "poll", QUERY, SOCKET, special="polling.Poll"),
    Entry("select", "epoll", QUERY, SOCKET, special="polling.Epoll"),
    *_group("selectors", QUERY, SOCKET, """SelectSelector._select PollSelector._selector_cls
            EpollSelector._selector_cls""", special="polling.SelectorCopy"),
    # -- child processes: spawn, wait, signal (their pipes are fds, recorded above) --
    # the process becomes another program: replayed, none is executed (processes.py)
    *_group("os", EFFECT, SUBPROCESS, "execv execve", special="processes.Exec"),
    Entry("_posixsubprocess", "fork_exec", EFFECT, SUBPROCESS, special="processes.ForkExec",
          aliases=("subprocess:_fork_exec",)),
    *_group("os", EFFECT, SUBPROCESS, "posix_spawn posix_spawnp", special="processes.Spawn"),
    Entry("os", "fork", EFFECT, SUBPROCESS, special="forks.Fork"),
    Entry("os", "forkpty", EFFECT, SUBPROCESS, special="terminals.ForkPty"),
    # multiprocessing's locks and semaphores, which its child processes share
    Entry("_multiprocessing", "SemLock", QUERY, SUBPROCESS, special="semaphores.SemLockClass"),
    Entry("_multiprocessing", "sem_unlink", EFFECT, SUBPROCESS, aliases=("multiprocessing.synchronize:sem_unlink",)),
    Entry("os", "waitpid", QUERY, SUBPROCESS, aliases=("subprocess:_waitpid",)),
    # pidfd_open: asyncio waits for its children through one from Python 3.13 on (and
    # tests that it can with a pidfd of its own pid, the recorded one in a replay)
    *_group("os", QUERY, SUBPROCESS, "wait wait3 wait4 waitid pidfd_open"),
    Entry("signal", "pidfd_send_signal", EFFECT, SUBPROCESS),
    Entry("os", "kill", EFFECT, SUBPROCESS, special="processes.Kill"),  # a signal to itself is sent again
    # the set of a process's children, which Process.start() polls, iterates by hash
    Entry("multiprocessing.process", "BaseProcess.__hash__", EFFECT, PRESENTATION,
          special="processes.ProcessHashedByIdentity"),
    Entry("os", "killpg", EFFECT, SUBPROCESS),
    # Waits for a signal: when it came is the recording's, and a replay's signal may come first
    *_group("signal", QUERY, PROCESS, "pause sigwait"),
    # The fd a signal's number is written to (asyncio's self-pipe): replayed, that fd is the
    # recorded number of a socket that is not open (the byte is on the tape anyway), and the
    # interpreter's write there failed on stderr, "Exception ignored ... wakeup fd".
    Entry("signal", "set_wakeup_fd", QUERY, PROCESS),
    # Timers that deliver a signal (pytest-timeout's signal method, alarm-based timeouts):
    # replayed, a real timer fired wherever the replay stood when its time ran out, which
    # in the debugger (a slower replay, a user at a breakpoint) was where the recording's
    # never fired. Not armed in a replay; a handler that ran when recorded does not run
    # there either, and the replay diverges where its effect shows (V28).
    *_group("signal", QUERY, PROCESS, "setitimer getitimer alarm"),
    # -- threads: their creation, and the hand-offs between them (threads.py) ----------
    Entry("_thread", "start_new_thread", EFFECT, THREADS, special="threads.StartThread",
          aliases=("threading:_start_new_thread", "_thread:start_new")),
    # Thread.start's own call from 3.13 on (absent before: the patcher skips it)
    Entry("_thread", "start_joinable_thread", EFFECT, THREADS, special="threads.StartThread",
          aliases=("threading:_start_joinable_thread",)),
    Entry("_thread", "allocate_lock", QUERY, THREADS, special="threads.NewLock",
          aliases=("threading:_allocate_lock", "threading:Lock", "_thread:allocate")),
    # From 3.13 on threading.Lock is the type _thread.lock, no alias of allocate_lock; before,
    # the alias above replaces it, and an entry of its own would wrap the wrapper.
    *((Entry("threading", "Lock", QUERY, THREADS, special="threads.NewLock"),)
      if sys.version_info >= (3, 13) else ()),
    Entry("threading", "RLock", QUERY, THREADS, special="threads.NewRLock"),
    # Thread idents: no event; a replay answers with the recorded numbers (thread_idents.py)
    Entry("_thread", "get_ident", QUERY, THREADS, special="thread_idents.GetIdent", aliases=("threading:get_ident",)),
    Entry("_thread", "_get_main_thread_ident", QUERY, THREADS, special="thread_idents.GetIdent",
          aliases=("threading:_get_main_thread_ident",)),
    Entry("_thread", "get_native_id", QUERY, THREADS, special="thread_idents.GetNativeId",
          aliases=("threading:get_native_id",)),
    Entry("sys", "_current_frames", QUERY, THREADS, special="thread_idents.ByIdent"),
    Entry("sys", "_current_exceptions", QUERY, THREADS, special="thread_idents.ByIdent"),
    Entry("signal", "pthread_kill", QUERY, THREADS, special="thread_idents.ThreadFirst"),
    Entry("threading", "Thread._after_fork", QUERY, THREADS, special="thread_idents.AfterFork"),
    Entry("threading", "Thread.join", QUERY, THREADS, special="thread_state.Join"),
    Entry("threading", "Thread.is_alive", QUERY, THREADS, special="thread_state.IsAlive"),
    Entry("threading", "enumerate", QUERY, THREADS, special="thread_state.ThreadList"),
    Entry("threading", "active_count", QUERY, THREADS, special="thread_state.ThreadList"),
    Entry("queue", "SimpleQueue", QUERY, THREADS, special="thread_state.PythonSimpleQueue"),
    # serve_forever polls this flag, which shutdown() sets from another thread
    Entry("socketserver", "BaseServer._BaseServer__shutdown_request", SHARED, THREADS,
          special="thread_state.SharedAttribute"),
    # asyncio's hand-off from other threads (run_in_executor, to_thread): event_loops.py
    Entry("asyncio.base_events", "BaseEventLoop.call_soon_threadsafe", EFFECT, THREADS,
          special="event_loops.ThreadsafeCall"),
    Entry("asyncio.selector_events", "BaseSelectorEventLoop._read_from_self", EFFECT, THREADS,
          special="event_loops.ReadFromSelf"),
    Entry("asyncio.base_events", "BaseEventLoop.run_forever", EFFECT, THREADS, special="event_loops.OwnedRun"),
    Entry("asyncio.base_events", "BaseEventLoop.__init__", EFFECT, THREADS, special="event_loops.OwnedFromBirth"),
    Entry("asyncio.futures", "Future", EFFECT, THREADS, special="event_loops.OrderedFutures",
          aliases=("asyncio:Future",)),
    # trio's hand-off from other threads (to_thread, from_thread): trio_queues.py
    Entry("trio._core._entry_queue", "EntryQueue.__init__", EFFECT, THREADS, special="trio_queues.OrderedEntryQueue"),
    # tasks kept in sets iterate in the order they were made, not by address: event_loops.py
    Entry("asyncio.tasks", "Task", EFFECT, PRESENTATION, special="event_loops.NumberedTasks",
          aliases=("asyncio:Task",)),
    # pyfakefs swaps file-system globals in every module: not in ours (file_system_fakes.py)
    Entry("pyfakefs.fake_filesystem_unittest", "Patcher._find_modules", EFFECT, PRESENTATION,
          special="file_system_fakes.OursLeftReal"),
    # anyio delivers a cancellation to the child scopes of a scope in the order of a set
    Entry("anyio._backends._asyncio", "CancelScope", EFFECT, PRESENTATION, special="event_loops.NumberedCancelScopes"),
    # is_set() reads it without the Condition's lock (execnet polls it from two threads)
    Entry("threading", "Event._flag", SHARED, THREADS, special="thread_state.SharedAttribute"),
    # pytest-xdist: set by execnet's receiver thread when a worker finishes, read by the
    # main loop to decide whether to send the worker "shutdown"
    Entry("xdist.workermanage", "WorkerController._down", SHARED, THREADS, special="thread_state.SharedAttribute"),
    # ProcessPoolExecutor's manager thread reads it unlocked after each wake-up (a result or
    # shutdown()'s wake-up), while shutdown() sets it: recorded, the manager saw it set and
    # joined the workers; a replay saw it not yet set and waited again (diverged 2 in 6)
    Entry("concurrent.futures.process", "ProcessPoolExecutor._shutdown_thread", SHARED, THREADS,
          special="thread_state.SharedAttribute"),
    # multiprocessing.Pool's handler threads read their Thread's _state unlocked in their
    # loops, while terminate() sets it: recorded, the task handler read RUN and sent the
    # task; a replay in which the main thread had run ahead read TERMINATE (diverged 2 in 60)
    Entry("threading", "Thread._state", SHARED, THREADS, special="thread_state.SharedAttribute"),
    # -- not boundary calls: how the program sees its own tracebacks ----------------------
    Entry("traceback", "walk_tb", QUERY, PRESENTATION, special="tracebacks.HideOurFrames"),
    Entry("traceback", "walk_stack", QUERY, PRESENTATION, special="tracebacks.HideOurFrames"),
    Entry("traceback", "_walk_tb_with_full_positions", QUERY, PRESENTATION, special="tracebacks.HideOurFrames"),
    # the interpreter's own printers, which a program (or a test) may call itself
    Entry("sys", "__excepthook__", QUERY, PRESENTATION, special="tracebacks.HideOurFramesInHook",
          aliases=("sys:excepthook",)),
    Entry("sys", "__unraisablehook__", QUERY, PRESENTATION, special="tracebacks.HideOurFramesInHook",
          aliases=("sys:unraisablehook",)),
    Entry("_thread", "_excepthook", QUERY, PRESENTATION, special="tracebacks.HideOurFramesInHook",
          aliases=("threading:excepthook", "threading:__excepthook__")),
    # -- libraries doing their I/O in C, recorded at the level Python sees: tls.py, sqlite.py
    Entry("ssl", "SSLContext._wrap_socket", QUERY, SOCKET, special="tls.WrapSocket"),
    Entry("ssl", "SSLContext._wrap_bio", QUERY, SOCKET, special="tls.WrapBio"),
    *_group("ssl", QUERY, SOCKET, """SSLContext.load_cert_chain SSLContext.load_verify_locations
            SSLContext.set_default_verify_paths SSLContext.load_dh_params SSLContext.set_ciphers
            SSLContext.get_ciphers SSLContext.get_ca_certs SSLContext.cert_store_stats
            SSLContext.session_stats""", special="tls.ContextMethod"),
    Entry("ssl", "RAND_bytes", QUERY, RANDOM),
    Entry("sqlite3.dbapi2", "connect", QUERY, FILE, special="sqlite.Connect", aliases=("sqlite3:connect",)),
    # pyOpenSSL's connections, the same way (pyopenssl.py)
    *_group("OpenSSL.SSL", QUERY, SOCKET, """Connection.do_handshake Connection.renegotiate
            Connection.renegotiate_pending Connection.total_renegotiations Connection.pending Connection.send
            Connection.sendall Connection.write Connection.recv Connection.read Connection.recv_into
            Connection.bio_read Connection.bio_write Connection.bio_shutdown Connection.shutdown
            Connection.get_shutdown Connection.want_read Connection.want_write Connection.get_state_string
            Connection.get_peer_certificate Connection.get_peer_cert_chain Connection.get_verified_chain
            Connection.get_cipher_name Connection.get_cipher_bits Connection.get_cipher_version
            Connection.get_protocol_version_name Connection.get_protocol_version
            Connection.get_alpn_proto_negotiated Connection.get_finished Connection.get_peer_finished
            Connection.server_random Connection.client_random Connection.master_key
            Connection.export_keying_material Connection.get_servername Connection.get_selected_srtp_profile
            Connection.get_group_name Connection.get_certificate Context.check_privatekey
            Context.load_verify_locations Context.use_certificate_file
            Context.use_privatekey_file Context.use_certificate_chain_file Context.load_client_ca
            Context.load_tmp_dh Context.set_default_verify_paths""", special="pyopenssl.ConnectionCall"),
    # inotify through ctypes (watchdog, werkzeug's reloader): its descriptor and watches
    Entry("ctypes", "CFUNCTYPE", QUERY, FILE, special="foreign_calls.Prototype"),
    Entry("ctypes", "CDLL.__getitem__", QUERY, FILE, special="foreign_calls.LibraryLookup"),
    # psutil's C part asks the kernel itself (sched_getaffinity, ioprio, getpriority, sysinfo,
    # getifaddrs, utmp) about processes that are not there in a replay (psutil.py reads /proc
    # through open(), recorded already)
    *_group("psutil._psutil_linux", QUERY, PROCESS, """disk_partitions getpagesize heap_info linux_sysinfo
            net_if_addrs net_if_duplex_speed net_if_flags net_if_is_running net_if_mtu proc_cpu_affinity_get
            proc_ioprio_get proc_priority_get users"""),
    *_group("psutil._psutil_linux", EFFECT, PROCESS, "proc_cpu_affinity_set proc_ioprio_set proc_priority_set heap_trim"),
)
