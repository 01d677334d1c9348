#include "core/analysis/distributed.h"

#include <cstdlib>
#include <exception>
#include <vector>

#include "core/error.h"

// MOESCOPE_HAVE_GLOO is defined for this file only (core/CMakeLists.txt) when gloo's headers,
// which c10d's ProcessGroupGloo.hpp includes, were found.
#ifdef MOESCOPE_HAVE_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

namespace moe {
namespace {

int envInt(const char* name, int fallback, int min, int max, bool required) {
  const char* v = std::getenv(name);
  if (!v || !*v) {
    if (required) throw Error(ErrorKind::InvalidArgument, std::string("distributed analysis: environment variable ") +
                                                              name + " is not set");
    return fallback;
  }
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  if (*end || x < min || x > max)
    throw Error(ErrorKind::InvalidArgument, std::string("distributed analysis: ") + name + "=" + v +
                                                " is not an integer in " + std::to_string(min) + ".." +
                                                std::to_string(max));
  return static_cast<int>(x);
}

}  // namespace

DistributedConfig distributedConfigFromEnvironment() {
  DistributedConfig c;
  if (const char* a = std::getenv("MASTER_ADDR"); a && *a) c.masterAddr = a;
  else throw Error(ErrorKind::InvalidArgument, "distributed analysis: environment variable MASTER_ADDR is not set");
  c.masterPort = envInt("MASTER_PORT", 29500, 1, 65535, true);
  c.worldSize = envInt("WORLD_SIZE", 1, 1, 65536, true);
  c.rank = envInt("RANK", 0, 0, c.worldSize - 1, true);
  return c;
}

at::Tensor shardSequences(const at::Tensor& ids, int rank, int worldSize) {
  if (ids.dim() != 2) throw Error(ErrorKind::InvalidArgument, "calibration token ids must be [sequences, length]");
  if (ids.size(0) < worldSize)
    throw Error(ErrorKind::InvalidArgument, "distributed analysis: " + std::to_string(ids.size(0)) +
                                                " calibration sequences cannot be shared by " +
                                                std::to_string(worldSize) + " processes (one at least each)");
  std::vector<int64_t> rows;
  for (int64_t i = rank; i < ids.size(0); i += worldSize) rows.push_back(i);
  return ids.index_select(0, at::tensor(rows, at::TensorOptions().dtype(at::kLong)).to(ids.device()));
}

#ifdef MOESCOPE_HAVE_GLOO

namespace {

bool isLoopback(const std::string& addr) {
  return addr == "localhost" || addr.rfind("127.", 0) == 0 || addr == "::1";
}

// libtorch 2.x asks for libuv's TCP store by default, and Debian 13's libtorch is built without
// it (the rendezvous then fails); 1.13 (Debian 12) has no such option.
template <typename Options>
auto plainTcpStore(Options& o, int) -> decltype(o.useLibUV = false, void()) {
  o.useLibUV = false;
}
template <typename Options>
void plainTcpStore(Options&, long) {}

class GlooCommunicator : public Communicator {
 public:
  explicit GlooCommunicator(const DistributedConfig& c) : rank_(c.rank), world_(c.worldSize) {
    try {
      c10d::TCPStoreOptions so;
      so.port = static_cast<std::uint16_t>(c.masterPort);
      so.isServer = c.rank == 0;
      so.numWorkers = static_cast<std::size_t>(c.worldSize);
      so.waitWorkers = true;
      so.timeout = c.timeout;
      plainTcpStore(so, 0);
      store_ = c10::make_intrusive<c10d::TCPStore>(c.masterAddr, so);
      auto opts = c10d::ProcessGroupGloo::Options::create(c.timeout);
      // The network device the ranks talk over: GLOO_SOCKET_IFNAME as torch does, loopback for a
      // single-host run (the host name may resolve to an address nothing listens on), else the
      // address the host name resolves to.
      if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname)
        opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
      else if (isLoopback(c.masterAddr))
        opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
      else
        opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      pg_ = c10::make_intrusive<c10d::ProcessGroupGloo>(store_, c.rank, c.worldSize, opts);
    } catch (const std::exception& e) {
      throw Error(ErrorKind::Io, "rank " + std::to_string(c.rank) + " of " + std::to_string(c.worldSize) +
                                     ": rendezvous at " + c.masterAddr + ":" + std::to_string(c.masterPort) +
                                     " failed: " + e.what());
    }
  }

  int rank() const override { return rank_; }
  int worldSize() const override { return world_; }

  void allReduceSum(at::Tensor& t) override {
    run("all-reduce", [&] {
      std::vector<at::Tensor> v{t};
      c10d::AllreduceOptions o;
      o.reduceOp = c10d::ReduceOp::SUM;
      pg_->allreduce(v, o)->wait();
    });
  }

  void broadcast(at::Tensor& t, int root) override {
    run("broadcast", [&] {
      std::vector<at::Tensor> v{t};
      c10d::BroadcastOptions o;
      o.rootRank = root;
      pg_->broadcast(v, o)->wait();
    });
  }

  void barrier() override {
    run("barrier", [&] { pg_->barrier()->wait(); });
  }

 private:
  // A peer that died closes its connections and a hung one runs into the timeout; either way
  // Gloo throws, and the message says which rank saw it.
  template <typename F>
  void run(const char* what, F&& f) {
    try {
      f();
    } catch (const std::exception& e) {
      throw Error(ErrorKind::Io, "rank " + std::to_string(rank_) + " of " + std::to_string(world_) + ": " + what +
                                     " failed (another rank stopped or timed out?): " + e.what());
    }
  }

  int rank_, world_;
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg_;
};

}  // namespace

bool distributedAvailable() { return true; }

std::unique_ptr<Communicator> Communicator::connect(const DistributedConfig& config) {
  return std::make_unique<GlooCommunicator>(config);
}

#else

bool distributedAvailable() { return false; }

std::unique_ptr<Communicator> Communicator::connect(const DistributedConfig&) {
  throw Error(ErrorKind::Unsupported,
              "distributed analysis is unavailable: this build found no Gloo headers (install libgloo-dev and "
              "re-run cmake)");
}

#endif

}  // namespace moe
