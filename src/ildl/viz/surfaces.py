"""Analytic 2-D surfaces with exact gradients: the landscapes that optimizers walk across.

A :class:`Surface` is a function ``f(x, y)``, its gradient ``(df/dx, df/dy)``, a plotting domain
and the critical points worth marking. Everything is vectorised: ``x`` and ``y`` may be scalars or
arrays of any (broadcastable) shape, and the result has their broadcast shape::

    >>> s = saddle()
    >>> s(1.0, 2.0), s.gradient(1.0, 2.0)
    (-3.0, (2.0, -4.0))

Ready-made surfaces: :func:`saddle` ``x^2 - y^2``, :func:`monkey_saddle` ``x^3 - 3xy^2``,
:func:`peaks` (MATLAB's), :func:`bowl` (an elongated quadratic) and :func:`curve_fit_surface`, the
mean squared error of fitting ``y = sin(b cos(a x))`` to noisy data as a function of ``(a, b)``.
Your own function works too: ``Surface("mine", f, gradient)`` (``gradient=None`` falls back to
central differences).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Point = tuple[float, float]
Domain = tuple[tuple[float, float], tuple[float, float]]


class Surface:
    """A function of two variables, its gradient, and where to look at it.

    ``function(x, y)`` and ``gradient(x, y) -> (df/dx, df/dy)`` take arrays of one shape (or
    scalars) and return arrays of that shape. ``domain`` is ``((x_min, x_max), (y_min, y_max))``
    for plots; ``minima``, ``saddles`` and ``maxima`` list known critical points ``(x, y)``.
    """

    def __init__(self, name: str, function: Callable, gradient: Callable | None = None,
                 domain: Domain = ((-2.0, 2.0), (-2.0, 2.0)), minima: tuple[Point, ...] = (),
                 saddles: tuple[Point, ...] = (), maxima: tuple[Point, ...] = (),
                 formula: str = "", axis_labels: tuple[str, str] = ("$x$", "$y$")):
        self.name = name
        self.function = function
        self._gradient = gradient
        self.domain = domain
        self.minima = tuple(minima)
        self.saddles = tuple(saddles)
        self.maxima = tuple(maxima)
        self.formula = formula  # LaTeX for titles, e.g. "$x^2 - y^2$"
        self.axis_labels = axis_labels

    def __call__(self, x, y):
        """``f(x, y)``, elementwise over arrays."""
        return self.function(x, y)

    def gradient(self, x, y) -> tuple:
        """``(df/dx, df/dy)`` at ``(x, y)``: exact if the surface has a gradient function,
        otherwise central differences ``(f(x + h) - f(x - h)) / 2h``."""
        if self._gradient is not None:
            return self._gradient(x, y)
        h = 1e-6
        return ((self.function(x + h, y) - self.function(x - h, y)) / (2 * h),
                (self.function(x, y + h) - self.function(x, y - h)) / (2 * h))

    def gradient_at(self, point: np.ndarray) -> np.ndarray:
        """The gradient at one point ``(2,)`` as a ``(2,)`` float array (what optimizers take)."""
        gx, gy = self.gradient(point[0], point[1])
        return np.array([gx, gy], dtype=float)

    def grid(self, resolution: int = 100) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(X, Y, Z)``, each ``(resolution, resolution)``, covering the domain (for plots)."""
        (x_min, x_max), (y_min, y_max) = self.domain
        grid_x, grid_y = np.meshgrid(np.linspace(x_min, x_max, resolution),
                                     np.linspace(y_min, y_max, resolution))
        return grid_x, grid_y, self(grid_x, grid_y)

    def __repr__(self) -> str:
        return f"Surface({self.name!r}, domain={self.domain})"


def saddle() -> Surface:
    """``f = x^2 - y^2``: a minimum along x, a maximum along y, a saddle point at the origin."""
    return Surface("saddle", lambda x, y: x**2 - y**2, lambda x, y: (2 * x, -2 * y),
                   domain=((-1.2, 1.2), (-2.0, 1.0)), saddles=((0.0, 0.0),),
                   formula="$x^2 - y^2$")


def monkey_saddle() -> Surface:
    """``f = x^3 - 3xy^2 = r^3 cos(3 theta)``: three valleys and three ridges meet at the origin,
    where the gradient ``(3x^2 - 3y^2, -6xy)`` and even the curvature vanish."""
    return Surface("monkey_saddle", lambda x, y: x**3 - 3 * x * y**2,
                   lambda x, y: (3 * x**2 - 3 * y**2, -6 * x * y),
                   domain=((-1.2, 1.2), (-1.2, 1.2)), saddles=((0.0, 0.0),),
                   formula="$x^3 - 3xy^2$")


def _peaks(x, y):
    return (3 * (1 - x)**2 * np.exp(-x**2 - (y + 1)**2)
            - 10 * (x / 5 - x**3 - y**5) * np.exp(-x**2 - y**2)
            - np.exp(-(x + 1)**2 - y**2) / 3)


def _peaks_gradient(x, y):
    # f = A + B + C with A = 3(1-x)^2 e^{-x^2-(y+1)^2}, B = -10 (x/5 - x^3 - y^5) e^{-x^2-y^2},
    # C = -1/3 e^{-(x+1)^2-y^2}; each term is (polynomial) * (gaussian), so product rule.
    ea = np.exp(-x**2 - (y + 1)**2)
    eb = np.exp(-x**2 - y**2)
    ec = np.exp(-(x + 1)**2 - y**2)
    poly = x / 5 - x**3 - y**5
    dx = (-6 * (1 - x) * ea - 6 * x * (1 - x)**2 * ea
          - 10 * (0.2 - 3 * x**2) * eb + 20 * x * poly * eb
          + 2 * (x + 1) * ec / 3)
    dy = (-6 * (y + 1) * (1 - x)**2 * ea
          + 50 * y**4 * eb + 20 * y * poly * eb
          + 2 * y * ec / 3)
    return dx, dy


def peaks() -> Surface:
    """MATLAB's ``peaks``: three hills and three pits (one shallow), a landscape with local minima.

    ``f = 3(1-x)^2 e^{-x^2-(y+1)^2} - 10(x/5 - x^3 - y^5) e^{-x^2-y^2} - 1/3 e^{-(x+1)^2-y^2}``.
    Minima (found numerically): global ``(0.228, -1.626)`` f = -6.55, ``(-1.347, 0.205)`` f = -3.05,
    and the shallow ``(0.296, 0.320)`` f = -0.065 where gradient descent from (1, 0) gets stuck.
    """
    return Surface("peaks", _peaks, _peaks_gradient, domain=((-3.0, 3.0), (-3.0, 3.0)),
                   minima=((0.2283, -1.6255), (-1.3474, 0.2045), (0.2964, 0.3202)),
                   maxima=((-0.0093, 1.5814), (-0.4601, -0.6292), (1.2857, -0.0048)),
                   formula="MATLAB peaks")


def bowl(stretch: float = 10.0) -> Surface:
    """``f = (x^2 + stretch * y^2) / 2``: convex, one minimum at the origin; ``stretch`` (the
    condition number) makes a narrow valley in which plain gradient descent zig-zags."""
    return Surface("bowl", lambda x, y: (x**2 + stretch * y**2) / 2,
                   lambda x, y: (x * 1.0, stretch * y),
                   domain=((-2.0, 2.0), (-1.0, 1.0)), minima=((0.0, 0.0),),
                   formula=f"$(x^2 + {stretch:g}\\,y^2)/2$")


class CurveFitSurface(Surface):
    """The loss of fitting a curve, seen as a surface over its two parameters ``(a, b)``.

    The model is ``y = sin(b cos(a x))`` and the loss the mean squared error over the data
    ``(x_data, y_data)`` (each ``(N,)``)::

        L(a, b) = 1/N sum_i (sin(b cos(a x_i)) - y_i)^2
        dL/da   = 2/N sum_i r_i cos(b c_i) * b * (-sin(a x_i)) x_i     (r_i the residual,
        dL/db   = 2/N sum_i r_i cos(b c_i) * c_i                        c_i = cos(a x_i))

    ``a`` and ``b`` may be arrays: the data become a last axis that is averaged away, so one call
    evaluates the whole plotting grid. ``true_params`` are the ``(a, b)`` that made the data.
    """

    def __init__(self, x_data: np.ndarray, y_data: np.ndarray, true_params: Point,
                 domain: Domain = ((-5.0, 5.0), (-5.0, 5.0))):
        self.x_data = np.asarray(x_data, dtype=float)
        self.y_data = np.asarray(y_data, dtype=float)
        self.true_params = tuple(float(p) for p in true_params)
        super().__init__("curve_fit", self.loss, self.loss_gradient, domain=domain,
                         formula="MSE of $y = \\sin(b\\cos(ax))$",
                         axis_labels=("$a$", "$b$"))

    @staticmethod
    def predict(a, b, x: np.ndarray) -> np.ndarray:
        """The model ``sin(b cos(a x))``."""
        return np.sin(b * np.cos(a * x))

    def _parts(self, a, b):
        # Parameters of shape S meet the data on a new last axis: (S..., 1) with (N,) -> (S..., N).
        a = np.asarray(a, dtype=float)[..., None]
        b = np.asarray(b, dtype=float)[..., None]
        inner = np.cos(a * self.x_data)
        residual = np.sin(b * inner) - self.y_data
        return a, b, inner, residual

    def loss(self, a, b):
        """Mean squared error ``L(a, b)``, shaped like ``a`` and ``b``."""
        residual = self._parts(a, b)[3]
        return np.mean(residual**2, axis=-1)

    def loss_gradient(self, a, b):
        """``(dL/da, dL/db)`` by the chain rule (see the class docstring)."""
        a, b, inner, residual = self._parts(a, b)
        outer = 2 * residual * np.cos(b * inner)  # dL/d(prediction) times d sin/d(argument)
        d_a = np.mean(outer * b * -np.sin(a * self.x_data) * self.x_data, axis=-1)
        d_b = np.mean(outer * inner, axis=-1)
        return d_a, d_b


def curve_fit_surface(true_params: Point = (2.0, 1.5), samples: int = 200, noise: float = 0.1,
                      seed: int = 0) -> CurveFitSurface:
    """The loss surface of the collection's gradient-descent figure: ``samples`` points evenly
    spaced on [-1, 1], ``y = sin(b cos(a x)) + N(0, noise^2)`` with ``(a, b) = true_params``,
    plotted over ``(a, b)`` in [-5, 5]^2. The model is even in ``a``: ``(-a, b)`` fits as well."""
    x = np.linspace(-1.0, 1.0, samples)
    rng = np.random.default_rng(seed)
    y = CurveFitSurface.predict(true_params[0], true_params[1], x) + rng.normal(0, noise, samples)
    return CurveFitSurface(x, y, true_params)
