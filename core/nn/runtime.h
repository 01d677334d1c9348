#pragma once
// Where and in which precision tensors are computed, chosen at run time: a CUDA build of libtorch
// uses the GPU when asked (or by "auto"), a CPU build runs everything on the CPU.
#include <ATen/ATen.h>

#include <string>

namespace moe {

struct Runtime {
  at::Device device = at::kCPU;
  at::ScalarType dtype = at::kFloat;

  // device: "auto" | "cpu" | "cuda" | "cuda:N"; dtype: "fp32" | "bf16" | "fp16".
  static Runtime make(const std::string& device, const std::string& dtype);
  at::TensorOptions options() const { return at::TensorOptions().dtype(dtype).device(device); }
  std::string describe() const;
};

// Sets libtorch's intra-op thread count (0 = all cores); libtorch may otherwise start with one.
void initThreads(int threads = 0);

// How many threads a parallel loop of this library (at::parallel_for compiled into it) runs on now,
// counted by running one: libtorch's thread count, or 1 where the library was built without
// OpenMP (the loop then runs serially whatever the thread count says).
int coreParallelThreads();

// Whether this CPU runs AVX2 and FMA instructions (the hand-written kernels' instruction set; false
// on other architectures).
bool cpuHasAvx2Fma();

// Whether this CPU has AVX512-BF16 (bf16 dot products with float32 sums) with the AVX-512 subsets
// the kernels using it need (F, BW, DQ).
bool cpuHasAvx512Bf16();

}  // namespace moe
