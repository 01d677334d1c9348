#pragma once
// libtorch's c10 logging defines a glog-style CHECK macro that silently replaces Catch's (failed
// CHECKs would abort instead of being reported). Include the tensor headers first, drop that
// macro, then include Catch. Every test that uses libtorch includes this instead of catch.hpp.
#include <ATen/ATen.h>
#undef CHECK
#include "tests/catch.h"

#include <cstdlib>

#include "core/nn/runtime.h"

namespace moe {
namespace test {
// The device the tests compute on: CPU, unless MOESCOPE_TEST_DEVICE names another ("cuda" on a GPU
// machine), so that the same comparisons with the reference numbers check the CUDA code path too.
inline Runtime runtime(const char* dtype = "fp32") {
  const char* device = std::getenv("MOESCOPE_TEST_DEVICE");
  return Runtime::make(device && *device ? device : "cpu", dtype);
}
}  // namespace test
}  // namespace moe
