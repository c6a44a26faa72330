"""What every response carries and every request passes: security headers, per-address limits.

The pages load nothing from elsewhere and run no inline script, so the content security policy
allows this server only; a handler that must (the debrief, with its inline styles) sets its own.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiolimiter import AsyncLimiter

__all__ = ["PAGE_POLICY", "RateLimits", "security_headers"]

PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": PAGE_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as error:
        response = error
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if isinstance(response, web.HTTPException):
        raise response
    return response


class RateLimits:
    """``rate`` requests per ``period`` seconds per client address (leaky bucket); over it, 429.

    Addresses are remembered up to ``max_addresses``, least recently seen forgotten first."""

    def __init__(
        self, rate: float, period: float, *, trusted_proxy: bool = False, max_addresses: int = 10_000
    ):
        self.rate = rate
        self.period = period
        self.trusted_proxy = trusted_proxy
        self.max_addresses = max_addresses
        self._limiters: OrderedDict[str, AsyncLimiter] = OrderedDict()

    def address(self, request: web.Request) -> str:
        if self.trusted_proxy:
            forwarded = request.headers.get("X-Forwarded-For", "")
            if forwarded:
                return forwarded.split(",")[-1].strip()
        return request.remote or "?"

    def _limiter(self, address: str) -> AsyncLimiter:
        limiter = self._limiters.get(address)
        if limiter is None:
            limiter = self._limiters[address] = AsyncLimiter(self.rate, self.period)
            while len(self._limiters) > self.max_addresses:
                self._limiters.popitem(last=False)
        else:
            self._limiters.move_to_end(address)
        return limiter

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        limiter = self._limiter(self.address(request))
        if not limiter.has_capacity():
            retry = max(1, round(self.period / self.rate))
            raise web.HTTPTooManyRequests(
                text="Too many requests; try again in a moment.\n", headers={"Retry-After": str(retry)}
            )
        await limiter.acquire()
        return await handler(request)
