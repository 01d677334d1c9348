#pragma once
// libtorch's c10 logging defines a glog-style CHECK macro that silently replaces Catch's (failed
// CHECKs would abort instead of being reported). Include the tensor headers first, drop that
// macro, then include Catch. Every test that uses libtorch includes this instead of catch.hpp.
#include <ATen/ATen.h>
#undef CHECK
#include <catch2/catch.hpp>
