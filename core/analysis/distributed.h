#pragma once
// Multi-process analysis: a tiny collective interface (rank, world size, sum all-reduce, broadcast,
// barrier) so that the analysis never sees the communication library. The one implementation,
// in distributed.cpp, is c10d's ProcessGroupGloo over a TCPStore (CPU tensors, loopback or LAN);
// every c10d call lives in that file, so a libtorch whose c10d API differs (2.x: Backend, options
// structs) is adapted there only. A GPU host could implement the same interface with NCCL.
#include <ATen/ATen.h>

#include <chrono>
#include <memory>
#include <string>

namespace moe {

struct DistributedConfig {
  std::string masterAddr = "127.0.0.1";  // where rank 0 hosts the rendezvous store
  int masterPort = 29500;
  int rank = 0, worldSize = 1;
  // Longest wait of any collective (and of the rendezvous): a rank that died or hangs makes the
  // others fail with an error after this long instead of waiting forever.
  std::chrono::milliseconds timeout{std::chrono::minutes(30)};
};

// MASTER_ADDR, MASTER_PORT, RANK and WORLD_SIZE (the names torchrun uses). Throws InvalidArgument
// naming a variable that is missing or out of range.
DistributedConfig distributedConfigFromEnvironment();

// Whether this build has a collective backend (Gloo headers were found at configure time).
bool distributedAvailable();

class Communicator {
 public:
  // Rendezvous of all ranks, then the process group. Throws Unsupported in a build without Gloo,
  // Io when the rendezvous fails or times out (the message names the rank and the address).
  static std::unique_ptr<Communicator> connect(const DistributedConfig& config);

  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int worldSize() const = 0;
  // In place, over all ranks. CPU tensors (contiguous); Io errors name the rank and the operation.
  virtual void allReduceSum(at::Tensor& t) = 0;
  virtual void broadcast(at::Tensor& t, int root) = 0;
  virtual void barrier() = 0;
};

// The calibration sequences (rows of ids [B, T]) of `rank`: rows r, r + world, r + 2 world ...
// Every row belongs to exactly one rank. InvalidArgument when there are fewer rows than ranks.
at::Tensor shardSequences(const at::Tensor& ids, int rank, int worldSize);

}  // namespace moe
