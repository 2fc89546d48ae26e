"""The in-image runner: `python -m cog.runner --socket PATH --predict predict.py:Predictor`.

Connects to the Unix socket the server listens on, imports the predictor, reports its schema,
runs setup(), then serves predict/cancel/healthcheck frames until the server says shutdown or
closes the socket. Sync predictors run on the main thread one at a time (cancel = SIGUSR1 raising
CancelationException inside them); async predictors run as tasks on an asyncio loop.
"""
import argparse
import asyncio
import inspect
import json
import os
import signal
import socket
import sys
import threading
import traceback

from .coerce import InputError, build_arguments, encode_output
from .io_files import InputFileError, LazyDir, OutputDir
from .loader import load_target
from .logcapture import LogStream
from .predictor import Scope, _scope
from .protocol import Channel
from .types import CancelationException


class Runner:
    def __init__(self, chan, args):
        self.chan = chan
        self.args = args
        self.active = {}
        self.predictor = None
        self.trainer = None
        self.main_thread = threading.main_thread()
        self.sync_scope = None
        self.in_user_code = False
        self.main_sending = 0
        self.cancel_pending = False
        self.tasks = {}
        self.loop = None
        self.shutdown_requested = False

    # ---- sending ---------------------------------------------------------------------------
    def send(self, frame):
        if threading.current_thread() is not self.main_thread:
            self.chan.send(frame)
            return
        self.main_sending += 1
        try:
            self.chan.send(frame)
        finally:
            self.main_sending -= 1
        if self.cancel_pending and self.in_user_code and not self.main_sending:
            self.cancel_pending = False
            self.sync_scope.cancel_raised = True
            raise CancelationException()

    def send_log(self, owner, source, data):
        frame = {"type": "log", "source": source, "data": data}
        if owner is not None:
            frame["id"] = owner
        self.send(frame)

    def sole_active_id(self):
        if len(self.active) == 1:
            for k in self.active:
                return k
        return None

    # ---- startup ---------------------------------------------------------------------------
    def start(self):
        self.stdout = LogStream("stdout", self, sys.__stdout__)
        self.stderr = LogStream("stderr", self, sys.__stderr__)
        sys.stdout, sys.stderr = self.stdout, self.stderr
        cwd = os.getcwd()
        try:
            self.predictor = load_target(self.args.predict, cwd)
            if self.args.train:
                self.trainer = load_target(self.args.train, cwd, train=True)
            self.send(self.schema_frame())
        except BaseException as err:  # noqa: BLE001 - any import failure is a setup failure
            self.fail_setup(err)
            return self.idle()
        if self.predictor.is_async:
            self.loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self.loop)
        try:
            for target in (self.predictor, self.trainer):
                if target is not None:
                    self.run_setup(target)
        except BaseException as err:  # noqa: BLE001
            self.fail_setup(err)
            return self.idle()
        self.flush_logs(None)
        self.send({"type": "setup_done", "status": "succeeded"})
        if self.loop is not None:
            return self.serve_async()
        return self.serve_sync()

    def schema_frame(self):
        p = self.predictor
        frame = {
            "type": "schema",
            "input": p.input_schema,
            "output": p.output_schema,
            "streaming": p.streaming,
            "healthcheck": p.healthcheck is not None,
            "async": p.is_async,
            "pythonVersion": "%d.%d.%d" % sys.version_info[:3],
        }
        if p.concurrency is not None:
            frame["concurrency"] = p.concurrency
        if self.trainer is not None:
            frame["trainingInput"] = self.trainer.input_schema
            frame["trainingOutput"] = self.trainer.output_schema
        return frame

    def run_setup(self, target):
        setup = target.setup_fn()
        if setup is None:
            return
        kwargs = {}
        if "weights" in inspect.signature(setup).parameters:
            kwargs["weights"] = self.args.weights or os.environ.get("COG_WEIGHTS") or None
        result = setup(**kwargs)
        if inspect.isawaitable(result):
            (self.loop or asyncio.new_event_loop()).run_until_complete(result)

    def fail_setup(self, err):
        sys.stderr.write(_format_exc(err))
        self.flush_logs(None)
        self.send({"type": "setup_done", "status": "failed", "error": "%s: %s" % (type(err).__name__, err)})

    def flush_logs(self, owner):
        self.stdout.flush_owner(owner)
        self.stderr.flush_owner(owner)

    def idle(self):
        """After a failed setup: stay up (the server reports SETUP_FAILED) until told to stop."""
        while True:
            frame = self.chan.receive()
            if frame is None or frame.get("type") == "shutdown":
                return 1

    # ---- sync predictors ---------------------------------------------------------------------
    def serve_sync(self):
        """The main thread reads frames itself: one wake-up per request instead of a thread hand-off.

        While a prediction runs nobody reads the socket, so cancel arrives as SIGUSR1 (the server
        sends it only for the prediction it knows is running here) and the server does not send
        healthchecks to a busy sync runner.
        """
        signal.signal(signal.SIGUSR1, self._on_cancel_signal)
        while True:
            frame = self.chan.receive()
            kind = frame.get("type") if frame is not None else "shutdown"
            if kind == "predict":
                self.predict_sync(frame)
            elif kind == "healthcheck":
                self.start_healthcheck(frame)
            elif kind == "shutdown":
                return 0
            # "cancel" for a prediction that already ended: nothing to do.

    def _on_cancel_signal(self, signum, stack):
        scope = self.sync_scope
        if scope is None or scope.cancel_raised:
            return
        scope.canceled = True
        if not self.in_user_code:
            return  # checked before user code runs again
        if self.main_sending:
            self.cancel_pending = True
            return
        scope.cancel_raised = True
        raise CancelationException()

    def predict_sync(self, frame):
        pid = frame["id"]
        target = self.trainer if frame.get("train") else self.predictor
        scope = Scope(pid, self.send)
        scope.cancel_raised = False
        token = _scope.set(scope)
        self.active[pid] = scope
        self.sync_scope = scope
        self.cancel_pending = False
        work = LazyDir("cogts-in-")
        outdir = OutputDir()
        opened = []
        done = {"type": "done", "id": pid}
        try:
            if target is None:
                raise InputError("this model has no train target")
            kwargs = build_arguments(target.params, frame.get("input") or {}, work, opened)
            if scope.canceled:
                raise CancelationException()
            self.in_user_code = True
            result = target.fn(**kwargs)
            if target.output_spec.kind == "iterator" or inspect.isgenerator(result):
                it = iter(result)
                while True:
                    if scope.canceled:
                        raise CancelationException()
                    try:
                        item = next(it)
                    except StopIteration:
                        break
                    self.in_user_code = False
                    self.send({"type": "output", "id": pid, "value": encode_output(item, outdir)})
                    self.in_user_code = True
                self.in_user_code = False
            else:
                self.in_user_code = False
                done["output"] = encode_output(result, outdir)
            done["status"] = "succeeded"
        except CancelationException:
            done["status"] = "canceled"
        except (InputError, InputFileError) as err:
            done["status"] = "failed"
            done["error"] = str(err)
        except BaseException as err:  # noqa: BLE001 - even sys.exit() in predict() is the prediction's failure
            sys.stderr.write(_format_exc(err))
            done["status"] = "failed"
            done["error"] = str(err) or type(err).__name__
        finally:
            self.in_user_code = False
            self.sync_scope = None
        self.finish(pid, done, opened, work, token)

    def finish(self, pid, done, opened, work, token):
        for f in opened:
            try:
                f.close()
            except Exception:  # noqa: BLE001
                pass
        work.remove()
        self.flush_logs(pid)
        self.active.pop(pid, None)
        if token is not None:
            _scope.reset(token)
        self.send(done)

    # ---- async predictors --------------------------------------------------------------------
    def serve_async(self):
        loop = self.loop
        stop = loop.create_future()

        def on_frame(frame):
            kind = frame.get("type")
            if kind == "predict":
                self.tasks[frame["id"]] = loop.create_task(self.predict_async(frame))
            elif kind == "cancel":
                task = self.tasks.get(frame.get("id"))
                if task is not None:
                    task.cancel()
            elif kind == "healthcheck":
                self.start_healthcheck(frame)
            elif kind == "shutdown" and not stop.done():
                stop.set_result(None)

        def on_eof():
            loop.call_soon_threadsafe(lambda: stop.done() or stop.set_result(None))

        self.start_reader(lambda f: loop.call_soon_threadsafe(on_frame, f), on_eof)

        async def main():
            await stop
            pending = [t for t in self.tasks.values() if not t.done()]
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)

        loop.run_until_complete(main())
        return 0

    async def predict_async(self, frame):
        pid = frame["id"]
        target = self.trainer if frame.get("train") else self.predictor
        scope = Scope(pid, self.send)
        _scope.set(scope)  # the task runs in its own context copy
        self.active[pid] = scope
        work = LazyDir("cogts-in-")
        outdir = OutputDir()
        opened = []
        done = {"type": "done", "id": pid}
        try:
            if target is None:
                raise InputError("this model has no train target")
            raw = frame.get("input") or {}
            kwargs = await self.loop.run_in_executor(None, build_arguments, target.params, raw, work, opened)
            result = target.fn(**kwargs)
            if inspect.isawaitable(result):
                result = await result
            if hasattr(result, "__anext__"):
                async for item in result:
                    self.send({"type": "output", "id": pid, "value": encode_output(item, outdir)})
            elif target.output_spec.kind == "iterator" or inspect.isgenerator(result):
                for item in result:
                    self.send({"type": "output", "id": pid, "value": encode_output(item, outdir)})
            else:
                done["output"] = encode_output(result, outdir)
            done["status"] = "succeeded"
        except (asyncio.CancelledError, CancelationException):
            done["status"] = "canceled"
        except (InputError, InputFileError) as err:
            done["status"] = "failed"
            done["error"] = str(err)
        except Exception as err:  # noqa: BLE001
            sys.stderr.write(_format_exc(err))
            done["status"] = "failed"
            done["error"] = str(err) or type(err).__name__
        self.tasks.pop(pid, None)
        self.finish(pid, done, opened, work, None)

    # ---- shared ----------------------------------------------------------------------------
    def start_reader(self, on_frame, on_eof):
        def read():
            while True:
                try:
                    frame = self.chan.receive()
                except (OSError, ValueError):
                    frame = None
                if frame is None:
                    if not self.shutdown_requested:
                        # The server went away without asking us to stop: nobody can receive
                        # results any more, so do not keep a GPU busy for nothing.
                        os._exit(1)
                    on_eof()
                    return
                if frame.get("type") == "shutdown":
                    self.shutdown_requested = True
                on_frame(frame)

        threading.Thread(target=read, name="cogts-reader", daemon=True).start()

    def start_healthcheck(self, frame):
        def check():
            answer = {"type": "healthcheck_result", "seq": frame.get("seq"), "healthy": True}
            try:
                result = self.predictor.healthcheck() if self.predictor.healthcheck else True
                if inspect.isawaitable(result):
                    if self.loop is not None:
                        result = asyncio.run_coroutine_threadsafe(result, self.loop).result()
                    else:
                        result = asyncio.new_event_loop().run_until_complete(result)
                if result is False:
                    answer["healthy"] = False
                    answer["error"] = "healthcheck() returned False"
            except Exception as err:  # noqa: BLE001
                answer["healthy"] = False
                answer["error"] = "%s: %s" % (type(err).__name__, err)
            self.send(answer)

        threading.Thread(target=check, name="cogts-healthcheck", daemon=True).start()


def _format_exc(err):
    return "".join(traceback.format_exception(type(err), err, err.__traceback__))


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m cog.runner")
    p.add_argument("--socket", help="Unix socket the server listens on")
    p.add_argument("--predict", required=True, help="predict.py:Predictor (cog.yaml predict/run)")
    p.add_argument("--train", help="train.py:train (cog.yaml train)")
    p.add_argument("--weights", help="passed to setup(weights=...)")
    p.add_argument("--schema-only", action="store_true", help="print the schema frame as JSON and exit")
    return p.parse_args(argv)


def print_schema(args):
    cwd = os.getcwd()
    runner = Runner(None, args)
    runner.predictor = load_target(args.predict, cwd)
    if args.train:
        runner.trainer = load_target(args.train, cwd, train=True)
    sys.stdout.write(json.dumps(runner.schema_frame(), indent=2) + "\n")
    return 0


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.schema_only:
        return print_schema(args)
    if not args.socket:
        sys.stderr.write("--socket is required\n")
        return 2
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(args.socket)
    return Runner(Channel(sock), args).start()


if __name__ == "__main__":
    sys.exit(main())
