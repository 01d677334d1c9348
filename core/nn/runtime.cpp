#include "core/nn/runtime.h"

#include <ATen/Parallel.h>
#include <ATen/Context.h>

#include <mutex>
#include <set>
#include <thread>

#include "core/error.h"

namespace moe {

Runtime Runtime::make(const std::string& device, const std::string& dtype) {
  Runtime rt;
  const bool cuda = at::hasCUDA();
  if (device == "auto") {
    rt.device = cuda ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU);
  } else if (device == "cpu") {
    rt.device = at::kCPU;
  } else if (device.rfind("cuda", 0) == 0) {
    if (!cuda)
      throw Error(ErrorKind::Unsupported,
                  "device '" + device + "' requested but this build of libtorch has no CUDA (or no GPU is visible); "
                  "use --device cpu, or build against a CUDA libtorch with -DCMAKE_PREFIX_PATH=...");
    rt.device = at::Device(device);
  } else {
    throw Error(ErrorKind::InvalidArgument, "unknown device '" + device + "' (expected auto, cpu, cuda or cuda:N)");
  }
  if (dtype == "fp32" || dtype == "float32") rt.dtype = at::kFloat;
  else if (dtype == "bf16" || dtype == "bfloat16") rt.dtype = at::kBFloat16;
  else if (dtype == "fp16" || dtype == "float16") rt.dtype = at::kHalf;
  else throw Error(ErrorKind::InvalidArgument, "unknown dtype '" + dtype + "' (expected fp32, bf16 or fp16)");
  return rt;
}

std::string Runtime::describe() const {
  const int threads = at::get_num_threads(), own = coreParallelThreads();
  // A build without OpenMP runs MoEScope's own kernels on one core: say so where figures are printed.
  const std::string ownNote = own == threads ? "" : ", " + std::to_string(own) + " for MoEScope's own kernels";
  return device.str() + "/" + std::string(c10::toString(dtype)) + " (" + std::to_string(threads) + " threads" + ownNote + ")";
}

void initThreads(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(threads);
}

int coreParallelThreads() {
  std::mutex lock;
  std::set<int> seen;
  const int64_t tasks = at::get_num_threads();
  at::parallel_for(0, tasks, 1, [&](int64_t, int64_t) {
    const std::lock_guard<std::mutex> guard(lock);
    seen.insert(at::get_thread_num());
  });
  return static_cast<int>(seen.size());
}

bool cpuHasAvx2Fma() {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
#else
  return false;
#endif
}

bool cpuHasAvx512Bf16() {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bf16");
  return has;
#else
  return false;
#endif
}

}  // namespace moe
