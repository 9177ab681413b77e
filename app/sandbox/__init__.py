"""The sandbox clock (issue 15): integrators move "today" forward and watch what happens."""
