"""pyspark's bundled Spark Connect server, started on loopback with Delta, for tests.

pyspark ships the server jar but no start script; ``spark-submit`` of its main class
starts it. The server owns the JVM, so the Delta jars and extensions are set here, not
in the clients' session settings.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pyspark

from identity_graph.resources.spark import delta_package
from identity_graph_tests.support.spark import INTERPRETED

SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
#: Per-asset reads from Delta fit in this; a whole lineage in one query did not fit in 1 GB.
DRIVER_MEMORY = "2g"
START_TIMEOUT_SECONDS = 180.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_command(port: int, shuffle_partitions: int = 2) -> list[str]:
    """The ``spark-submit`` command line of a Delta-enabled Connect server on ``127.0.0.1:port``."""
    spark_home = os.path.dirname(pyspark.__file__)
    conf = {
        "spark.connect.grpc.binding.address": "127.0.0.1",
        "spark.connect.grpc.binding.port": str(port),
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": str(shuffle_partitions),
        "spark.databricks.delta.snapshotPartitions": "2",
        **INTERPRETED,
    }
    command = [
        os.path.join(spark_home, "bin", "spark-submit"),
        "--class",
        SERVER_CLASS,
        "--master",
        "local[2]",
        "--driver-memory",
        DRIVER_MEMORY,
        # The serial collector, as in the tests' own session (support/spark.py: G1's threads cost CPU
        # that two busy cores do not have). The JIT keeps C2: with expressions interpreted, Spark's own
        # evaluation code runs hot all session long (make test 22 min 17 s -> 21 min 30 s with C2 here;
        # C1 alone in the tests' sessions left the suite at a third of its tests after 22 minutes).
        "--driver-java-options",
        "-XX:+UseSerialGC",
        "--packages",
        delta_package(),
    ]
    for key, value in conf.items():
        command += ["--conf", f"{key}={value}"]
    return command


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False


def log_tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextlib.contextmanager
def connect_server(log_dir: Path, timeout: float = START_TIMEOUT_SECONDS) -> Iterator[str]:
    """Start a Delta-enabled Spark Connect server on loopback; yield its ``sc://127.0.0.1:PORT`` URL.

    Waits until the port accepts connections (``TimeoutError`` with the server's log tail
    otherwise, ``RuntimeError`` if it exits first) and kills the server's process group on exit.
    Its output goes to ``log_dir/connect-server.log``.
    """
    port = free_port()
    log = Path(log_dir) / "connect-server.log"
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_HOME": os.path.dirname(pyspark.__file__)}
    # A client env var would make the server's own pyspark think it is a Connect client.
    for key in ("SPARK_REMOTE", "SPARK_CONNECT_MODE_ENABLED"):
        env.pop(key, None)
    with open(log, "wb") as out:
        process = subprocess.Popen(
            server_command(port),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + timeout
        while not _answers(port):
            if process.poll() is not None:
                raise RuntimeError(
                    f"Spark Connect server exited with {process.returncode} before listening:\n{log_tail(log)}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"Spark Connect server not listening on 127.0.0.1:{port} after {timeout:.0f}s:\n{log_tail(log)}"
                )
            time.sleep(0.5)
        yield f"sc://127.0.0.1:{port}"
    finally:
        stop_process_group(process)


def stop_process_group(process: subprocess.Popen, grace_seconds: float = 20.0) -> None:
    """SIGTERM the process's group (it was started with ``start_new_session``), SIGKILL it if it is
    still there after ``grace_seconds``."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
