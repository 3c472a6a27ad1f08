# Copyright: djangostack.channels contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The linear strategy, run through Mitogen for Ansible when it is installed."""

from __future__ import annotations

DOCUMENTATION = r"""
name: mitogen_linear
short_description: The linear strategy, through Mitogen for Ansible when it is installed
description:
  - Runs tasks exactly like C(ansible.builtin.linear), but through Mitogen for Ansible
    (the C(mitogen) Python package) when the controller has it. Mitogen keeps one Python
    interpreter per target and runs modules in it, instead of copying and starting a new
    interpreter for each task.
  - On this collection's own benchmark (C(make bench), 2 CPUs) a no-op C(site.yml) run took
    8.8 s through it and 15.1 s with C(ansible.builtin.linear), in the same run.
  - Two changes to Mitogen's defaults. Every module runs in a fork of Mitogen's interpreter
    (C(mitogen_task_isolation=fork) unless the inventory sets it), because in the same interpreter
    C(community.docker.docker_container)'s comparisons leaked from one task into the next. And
    the list of installed collections is made once per run, not in every task's fork.
  - Mitogen's fork parent on each target imports C(ansible.module_utils.basic), C(requests) and
    the C(community.docker) client once, so that a task's fork does not import them again. A
    C(community.docker) module call went from 0.3 s to 0.1 s here.
  - The first time a task is queued for a host, Mitogen's connection to it is started in a worker
    of its own (a ping whose result is dropped), so that it is made while the first tasks run on
    the controller; the site playbook's first play checks the settings there. A no-op C(site.yml)
    run's first task on the host went from 1.8 s to 0.3 s. A run whose tasks all stay on the
    controller waits at its end for the connection (1-2 s here) instead. Meanwhile, Mitogen's
    connection process prepares the modules the target will import (0.3-0.5 s of the connection).
  - A task whose C(when) is false is reported skipped without a worker. Its condition is evaluated
    in the play's process with the variables a worker would have (the connection's magic variables
    added), and the worker's skipped result goes to the results queue, so that callbacks, C(register)
    and the recap see the same. A skipped task took 40-60 ms here, mostly to fork its worker, and
    about 5 ms this way; a no-op C(site.yml) run skips 25 of its 60 tasks. A task with a loop or
    C(delegate_to) still goes to a worker, and so does one whose condition is true or fails to
    evaluate; a worker evaluates that condition again, as usual (a lookup in it runs twice).
  - A task of an action that stays on the controller (C(set_fact), C(assert), C(debug), C(fail),
    C(include_tasks), C(include_role) and this collection's C(check_settings)) runs in the play's
    process too, through the same task executor a worker runs, on copies of the task and its
    variables; its result goes to the results queue as a worker's would. Such a task took 25-35 ms
    less here (100 C(set_fact) tasks, 3.6-3.8 s against 5.9-7.2 s through workers); a no-op
    C(site.yml) run has 18 of them. In 9 alternating pairs of no-op runs, it took 0.67 s less at the
    median (from 0.36 s more to 3.1 s less, with the machine's noise). A task with a loop,
    C(delegate_to), C(until), C(async) or a C(timeout) still goes to a worker; and tasks run this
    way for several hosts run one after the other. A lookup in such a task runs in the play's
    process, so one that reads its own process (its parent, its pid) sees the run's process, not a
    worker; the collection's deploy lock uses the C(controller_pid) lookup, which is the same in both.
  - Without Mitogen it is C(ansible.builtin.linear), and says so at verbosity 1.
  - The repository's C(ansible.cfg) selects it; set C(ANSIBLE_STRATEGY=linear) to run without it.
author: djangostack.channels contributors
"""

import importlib
import threading
from typing import Any

import ansible.collections.list
from ansible import context
from ansible._internal._errors import _error_utils
from ansible._internal._templating._engine import TemplateEngine
from ansible.executor.process.worker import WorkerProcess
from ansible.executor.task_executor import TaskExecutor
from ansible.executor.task_result import _RawTaskResult
from ansible.playbook.block import Block
from ansible.playbook.task import Task
from ansible.plugins import loader as plugin_loader
from ansible.plugins.strategy.linear import StrategyModule as _Linear
from ansible.utils.display import Display

try:
    import ansible_mitogen.loaders
    import ansible_mitogen.planner
    import ansible_mitogen.process
    import ansible_mitogen.services
    import ansible_mitogen.strategy
    import mitogen.parent
except ImportError:  # Mitogen is optional: plain linear.
    Display().v(
        "djangostack.channels.mitogen_linear: the mitogen package is not installed; running as linear."
    )

    class StrategyModule(_Linear):
        pass

else:
    _COLLECTION_DIRS: list[str] = []

    def _load_collections(invocation: Any) -> None:
        """Mitogen's own version lists every installed collection (reading each one's metadata) for
        each collection module a task runs, 0.1-0.2 s each time here: each task runs in a new fork
        of the controller, so Mitogen's cache of it is always empty. The list is made once, in the
        controller process, before the forks."""
        invocation._extra_sys_paths.update(_COLLECTION_DIRS)

    _mitogen_should_fork = ansible_mitogen.planner.NewStylePlanner.should_fork

    def _should_fork(planner: Any) -> bool:
        """Each module runs in a fork of Mitogen's interpreter unless the inventory sets
        mitogen_task_isolation to something else. Mitogen's default runs modules one after another
        in the same interpreter, where module-level state leaks from one task to the next: the
        comparisons a docker_container task set (env: strict, ...) were still set for the restart
        handler's docker_container call, which then recreated MySQL's container without its
        environment and volumes. A fork costs ~6 % on a no-op run here."""
        isolation = planner._inv.task_vars.get("mitogen_task_isolation", "fork")
        return isolation == "fork" or _mitogen_should_fork(planner)

    # Correctness, not speed: applied as soon as the strategy is loaded, whatever else Mitogen has.
    ansible_mitogen.planner.NewStylePlanner.should_fork = _should_fork

    # Imported once in Mitogen's fork parent on each target, so that each task's fork has them
    # already: importing them took ~0.2 s of every Docker module call (requests alone ~0.15 s),
    # 0.3 s -> 0.1 s per docker_container_info call here. Only imported there, never run: a fork
    # still starts from their pristine module state. One that cannot be imported is left out.
    PRELOAD = (
        "ansible.module_utils.basic",
        "requests",
        "ansible_collections.community.docker.plugins.module_utils._api.api.client",
        "ansible_collections.community.docker.plugins.module_utils.module_container.docker_api",
    )
    _mitogen_connect = ansible_mitogen.services.ContextService._connect

    def _connect(service: Any, key: Any, spec: Any, via: Any = None) -> Any:
        """Mitogen's connect, then the imports above sent to the new target's fork parent. They run
        there before the first task's fork, which the fork parent starts only after them."""
        result = _mitogen_connect(service, key, spec, via)
        fork_context = (result.get("init_child_result") or {}).get("fork_context")
        if fork_context is not None:
            for name in PRELOAD:
                fork_context.call_no_reply(importlib.import_module, name)
        return result

    ansible_mitogen.services.ContextService._connect = _connect

    _mitogen_setup_services = ansible_mitogen.process.MuxProcess._setup_services

    def _prepare_modules(responder: Any) -> None:
        """Mitogen's connection process prepares, on demand, the source of each module a target
        imports (found, minified, compressed, with the modules it imports): 0.3-0.5 s of the first
        connection here. Done ahead for Mitogen's own target side and the modules preloaded above,
        while the first tasks run on the controller. A module that cannot be prepared is left to
        the target's request."""
        mitogen.parent.get_core_source_partial()
        for name in ("ansible_mitogen.target", *PRELOAD):
            try:
                importlib.import_module(name)
                for module in (name, *responder._finder.find_related(name)):
                    responder._build_tuple(module)
            except Exception:  # noqa: BLE001 - left to the target's request, as without this
                continue

    def _setup_services(mux: Any) -> None:
        _mitogen_setup_services(mux)
        # A thread of its own: the process's broker thread keeps serving connections meanwhile,
        # and the results are cached by name, so that one prepared twice is the same.
        threading.Thread(target=_prepare_modules, args=(mux.router.responder,), daemon=True).start()

    ansible_mitogen.process.MuxProcess._setup_services = _setup_services

    class _Discard:
        """The results queue of a connect-ahead worker: what it reports is dropped."""

        def __getattr__(self, name: str) -> Any:
            return lambda *args, **kwargs: None

    # The actions whose tasks run in the play's process (_ran_here): they need no connection and
    # return at once. Not every action without a connection: one that waits (pause) would hold
    # up the play's other hosts, whose workers run side by side.
    _RUN_HERE = frozenset(
        (
            *(
                f"ansible.builtin.{action}"
                for action in ("set_fact", "assert", "debug", "fail", "include_tasks", "include_role")
            ),
            "djangostack.channels.check_settings",
        )
    )

    # Hosts connected to ahead in this run, and the workers doing it (joined when a play ends).
    _CONNECTED_AHEAD: set[str] = set()
    _AHEAD_WORKERS: list[Any] = []

    class StrategyModule(  # type: ignore[no-redef]
        ansible_mitogen.strategy.StrategyMixin,
        ansible_mitogen.loaders.strategy_loader.get("linear", class_only=True),
    ):
        def run(self, iterator: Any, play_context: Any, result: int = 0) -> int:
            if not _COLLECTION_DIRS and hasattr(ansible_mitogen.planner, "_load_collections"):
                _COLLECTION_DIRS.extend(
                    path.decode() for path in ansible.collections.list.list_collection_dirs()
                )
                ansible_mitogen.planner._load_collections = _load_collections
            try:
                return super().run(iterator, play_context, result)
            finally:
                # A play may end before a connection started ahead is made; Mitogen's shutdown at
                # the end of the run would then wait 5 s for it, and say so as an error.
                while _AHEAD_WORKERS:
                    _AHEAD_WORKERS.pop().join()

        def _queue_task(self, host: Any, task: Any, task_vars: Any, play_context: Any) -> Any:
            # No more workers of this kind at a time than the run has forks.
            if host.name not in _CONNECTED_AHEAD and len(_AHEAD_WORKERS) < len(self._workers):
                _CONNECTED_AHEAD.add(host.name)
                self._connect_ahead(host, task, task_vars, play_context)
            if self._skipped_here(host, task, task_vars, play_context) or self._ran_here(
                host, task, task_vars, play_context
            ):
                return None
            return super()._queue_task(host, task, task_vars, play_context)

        def _skipped_here(self, host: Any, task: Any, task_vars: Any, play_context: Any) -> bool:
            """Report a task whose `when` is false as skipped from here, without a worker: the
            condition is evaluated as the worker would (the same variables, the connection's magic
            variables added) and the worker's skipped result goes to the results queue, so that
            callbacks, register and the recap see what they would see. A skipped task took 40-60 ms
            in a worker here, mostly to fork it; 25 of a no-op site.yml run's 60 tasks are skipped.
            A task with a loop (one condition per item) or delegate_to (the delegated host's
            variables) still goes to a worker, and so does one whose condition fails to evaluate, so
            that the worker reports the error as usual. A true condition is evaluated again in the
            worker: a lookup in it runs twice."""
            if not task.when or task.loop or task.loop_with or task.delegate_to is not None:
                return False
            variables = dict(task_vars)
            result: dict[str, Any] = {
                "changed": False,
                "skipped": True,
                "skip_reason": "Conditional result was False",
            }
            try:
                templar = TemplateEngine(loader=self._loader, variables=task_vars)
                context = play_context.set_task_and_variable_override(
                    task=task, variables=task_vars, templar=templar
                )
                context.post_validate(templar=templar)
                if not context.remote_addr:
                    context.remote_addr = host.address
                context.update_vars(variables)
                if task._resolve_conditional(task.when, variables, result_context=result):
                    return False
            except Exception:  # noqa: BLE001 - the worker evaluates it again and reports the error
                return False
            task.update_result_no_log(templar, result)
            self._report_here(host, task, task_vars, play_context, task, result)
            return True

        def _ran_here(self, host: Any, task: Any, task_vars: Any, play_context: Any) -> bool:
            """Run a task of an action that stays on the controller (_RUN_HERE) in the play's
            process, without a worker: the same TaskExecutor a worker runs, on copies of the task
            (without its block's other tasks, which copying took 50 ms for a block of 100) and of
            its variables, as a worker has them in its fork; the result goes to the results queue
            as a worker sends it. Such a task took 25-35 ms less here, most of it to fork the worker
            and wait for it; 18 of a no-op site.yml run's tasks are of these actions. A task with
            a loop, delegate_to, until, async or a timeout (an alarm signal in this process) still
            goes to a worker."""
            if (
                task.resolved_action not in _RUN_HERE
                or task.loop
                or task.loop_with
                or task.delegate_to is not None
                or task.until
                or task.async_val
                or task.timeout
            ):
                return False
            run = task.copy(exclude_tasks=True)
            try:
                result = TaskExecutor(
                    host,
                    run,
                    dict(task_vars),
                    play_context,
                    self._loader,
                    plugin_loader.get_plugin_loader_namespace(),
                    self._final_q,
                    self._variable_manager,
                ).run()
            except Exception as error:  # noqa: BLE001 - reported as the worker reports it
                result = _error_utils.result_dict_from_exception(error)
            self._report_here(host, task, task_vars, play_context, run, result)
            return True

        def _report_here(
            self, host: Any, task: Any, task_vars: Any, play_context: Any, run: Any, result: Any
        ) -> None:
            """What StrategyBase._queue_task and a worker do for a task, for one that did not need
            a worker: the task remembered for its result, the start callback, the result queued."""
            self._queued_task_cache[(host.name, task._uuid)] = {
                "host": host,
                "task": task,
                "task_vars": task_vars,
                "play_context": play_context,
            }
            self._tqm.send_callback("v2_runner_on_start", host, task)
            self._final_q.send_task_result(
                _RawTaskResult(host=host, task=run, return_data=result, task_fields=run.dump_attrs())
            )
            self._pending_results += 1

        def _connect_ahead(self, host: Any, task: Any, task_vars: Any, play_context: Any) -> None:
            """Start Mitogen's connection to a host the first time a task is queued for it, in a
            worker of its own whose result is dropped: a ping in the play's context. Mitogen's
            connection service keeps the connection for the tasks that follow, and makes a task
            that needs it sooner wait for it rather than open another. Starting Mitogen on a
            host takes 1.2-1.8 s here, and the site playbook's first play (the settings checks)
            runs on the controller for about as long. Only for a host whose connection Mitogen
            takes over."""
            connection = task_vars.get("ansible_connection") or play_context.connection
            if connection not in ansible_mitogen.strategy.REDIRECTED_CONNECTION_PLUGINS:
                return
            ping = Task.load(
                {"name": "Connect ahead", "action": "ansible.builtin.ping"},
                block=Block(play=task.get_play()),
                variable_manager=self._variable_manager,
                loader=self._loader,
            )
            worker = WorkerProcess(
                final_q=_Discard(),
                task_vars=task_vars,
                host=host,
                task=ping,
                play_context=play_context,
                loader=self._loader,
                variable_manager=self._variable_manager,
                shared_loader_obj=plugin_loader.get_plugin_loader_namespace(),
                worker_id=-1,
                cliargs=context.CLIARGS,
            )
            worker.start()
            _AHEAD_WORKERS.append(worker)
