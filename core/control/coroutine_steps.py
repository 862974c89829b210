"""next and finish from a coroutine's frame (a mixin of :class:`~retrace_core.control.engine.Engine`)."""
from __future__ import annotations

import gc
import types
import weakref

from retrace_core.boundary.thread_idents import real_get_ident
from retrace_core.control.messages import Step
from retrace_core.trace import scope

CO_COROUTINE = 0x80  # inspect.CO_COROUTINE, without importing inspect into every worker


class CoroutineSteps:
    """Engine methods: the step's coroutine, and whether a line may stop it."""

    def _step_in_coroutine(self, step: Step | None) -> None:
        """next and finish from a coroutine's frame, as pdb does them: the coroutine is
        suspended at an ``await`` and the event loop runs other tasks at the same depth,
        whose lines are not the next line. ``next`` stops at the coroutine's own next
        line, or after it has finished; ``finish`` stops at the first line after it has
        finished: in the coroutine that awaited it, or, when a task ran it (no program
        coroutine awaits it), wherever this thread runs program code next."""
        self.step_coroutine, self.step_stays = None, False
        frame = self.frame
        if step is None or frame is None or not frame.f_code.co_flags & CO_COROUTINE:
            return
        ident, depth = self._step_args(step)
        here = self.tracer.depth(real_get_ident())
        if ident != real_get_ident() or depth is None or depth > here:
            return
        coroutine = next((o for o in gc.get_referrers(frame)
                          if type(o) is types.CoroutineType and o.cr_frame is frame), None)
        if coroutine is None:
            return
        self.step_coroutine = weakref.ref(coroutine)  # not kept alive by us: the program's finalizers run as recorded
        self.step_stays = depth == here  # next; finish otherwise
        if depth < here and not self._awaited_by_program(frame):
            self.tracer.set_step(ident, here)  # a task's coroutine: its caller is the event loop

    def _awaited_by_program(self, frame) -> bool:
        """Is the nearest program frame that called ``frame`` a coroutine (awaiting it)?"""
        caller = frame.f_back
        while caller is not None and not scope.is_program(caller.f_code.co_filename, self.tracer.rules):
            caller = caller.f_back
        return caller is not None and bool(caller.f_code.co_flags & CO_COROUTINE)

    def _step_may_stop(self, frame) -> bool:
        coroutine = self.step_coroutine()
        if coroutine is None or coroutine.cr_frame is None:  # it has finished
            return True
        return self.step_stays and frame is coroutine.cr_frame
