#include <doctest/doctest.h>
#include <rt/rt.hpp>
