#include "core/engine/layer_stager.h"

#include <c10/core/Event.h>
#include <c10/core/StreamGuard.h>
#include <c10/core/impl/VirtualGuardImpl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <set>
#include <system_error>
#include <thread>
#include <utility>

#include "core/error.h"

namespace moe {

const char* stagingName(Staging staging) {
  switch (staging) {
    case Staging::Off: return "off";
    case Staging::Auto: return "auto";
    case Staging::Copy: return "copy";
  }
  return "?";
}

Staging parseStaging(const std::string& text) {
  for (Staging s : {Staging::Off, Staging::Auto, Staging::Copy})
    if (text == stagingName(s)) return s;
  throw Error(ErrorKind::InvalidArgument, "unknown staging '" + text + "' (expected off, auto or copy)");
}

LayerStager::LayerStager(const TensorStore& store, const Architecture& arch, const Runtime& rt, Staging staging,
                         int64_t chunkBytes)
    : store_(store), arch_(arch), rt_(rt), chunkBytes_(chunkBytes) {
  if (chunkBytes <= 0) throw Error(ErrorKind::InvalidArgument, "staging buffers must hold at least one byte");
  staging_ = staging;
  enabled_ = staging != Staging::Off;
  copies_ = staging == Staging::Copy || (staging == Staging::Auto && !rt.device.is_cpu());
}

LayerStager::~LayerStager() {
  stop_ = true;
  if (pending_.valid()) pending_.wait();  // its outcome no longer matters
}

std::vector<const TensorInfo*> LayerStager::storedTensors(int layer) const {
  std::vector<const TensorInfo*> out;
  std::set<std::pair<const uint8_t*, size_t>> seen;
  for (const auto& spec : arch_.layerTensors(layer)) {
    const TensorInfo& info = store_.get(spec.name);
    for (const TensorInfo* t : {info.quantized() ? info.values : &info, info.quantized() ? info.scale : nullptr})
      if (t && t->data && t->nbytes > 0 && seen.insert({t->data, t->nbytes}).second) out.push_back(t);
  }
  return out;
}

void LayerStager::start(int layer) {
  if (pending_.valid()) take(pendingLayer_);  // one at a time (and a failure there stops staging)
  if (!enabled_) return;
  std::vector<const TensorInfo*> tensors = storedTensors(layer);
  // A small layer is read faster than a thread starts (the demo model's are 1 MB): Auto leaves it.
  int64_t total = 0;
  for (const TensorInfo* t : tensors) total += static_cast<int64_t>(t->nbytes);
  if (staging_ == Staging::Auto && total < kMinAutoBytes) return;
  // The copies are handed to the stream the forward pass computes on (this thread's current one).
  std::optional<c10::Stream> consumer;
  if (copies_ && !rt_.device.is_cpu()) consumer = c10::impl::VirtualGuardImpl(rt_.device.type()).getStream(rt_.device);
  try {
    pending_ = std::async(std::launch::async, [this, layer, tensors = std::move(tensors), total, consumer] {
      try {
        return stage(tensors, total, consumer);
      } catch (const Error& e) {
        throw Error(e.kind(), "staging decoder layer " + std::to_string(layer) + ": " + e.what());
      } catch (const std::exception& e) {
        throw Error(ErrorKind::Io, "staging decoder layer " + std::to_string(layer) + ": " + e.what());
      }
    });
    pendingLayer_ = layer;
  } catch (const std::system_error& e) {  // no thread to be had
    failure_ = "staging decoder layer " + std::to_string(layer) + ": " + e.what();
    enabled_ = false;
  }
}

std::shared_ptr<const StagedBytes> LayerStager::take(int layer) {
  if (layer != pendingLayer_ || !pending_.valid()) return nullptr;
  pendingLayer_ = -1;
  try {
    return pending_.get();
  } catch (const std::exception& e) {
    // The layer is read as without staging; later layers too (the cause would likely recur).
    failure_ = e.what();
    enabled_ = false;
    return nullptr;
  }
}

std::shared_ptr<StagedBytes> LayerStager::stage(const std::vector<const TensorInfo*>& tensors, int64_t total,
                                                const std::optional<c10::Stream>& consumer) {
  auto checkStop = [&] {
    if (stop_) throw Error(ErrorKind::Cancelled, "stopped");
  };
  if (!copies_) {
    // Read-ahead: the files' bytes go into the page cache, not into this process' resident memory
    // (which would hold this layer's and the next one's at once).
    for (const TensorInfo* t : tensors)
      if (!readIntoPageCache(*t, stop_)) checkStop();
    return nullptr;
  }

  // Copies: through two host buffers (pinned for a device, so the copies run asynchronously on this
  // thread's own stream) filled in turn while the other one's copy is in flight.
  const bool device = !rt_.device.is_cpu();
  std::optional<c10::impl::VirtualGuardImpl> impl;
  std::optional<c10::StreamGuard> onSideStream;
  if (device) {
    impl.emplace(rt_.device.type());
    onSideStream.emplace(impl->getStreamFromGlobalPool(rt_.device));
  }
  const int64_t chunk = std::max<int64_t>(1, std::min(chunkBytes_, total));
  const at::TensorOptions hostOptions = at::TensorOptions().dtype(at::kByte).pinned_memory(device);
  at::Tensor buffers[2] = {at::empty({chunk}, hostOptions), at::empty({chunk}, hostOptions)};
  std::optional<c10::Event> inFlight[2];
  int slot = 0;
  int64_t used = 0;
  // The copies queued so far on this thread's stream, as an event to wait for (by polling: waiting
  // on an event or a stream is not part of libtorch's device-generic interface in every version).
  auto queued = [&] {
    c10::Event event(rt_.device.type());
    event.record(impl->getStream(rt_.device));
    return event;
  };
  auto waitFor = [&](const c10::Event& event) {
    while (!event.query()) {
      checkStop();
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  };
  auto nextBuffer = [&] {
    if (device) inFlight[slot].emplace(queued());
    slot ^= 1;
    used = 0;
    if (inFlight[slot]) waitFor(*inFlight[slot]);
  };
  auto out = std::make_shared<StagedBytes>();
  for (const TensorInfo* t : tensors) {
    const int64_t n = static_cast<int64_t>(t->nbytes);
    at::Tensor copy = at::empty({n}, at::TensorOptions().dtype(at::kByte).device(rt_.device));
    for (int64_t off = 0; off < n;) {
      checkStop();
      if (used == chunk) nextBuffer();
      const int64_t part = std::min(n - off, chunk - used);
      uint8_t* staging = buffers[slot].data_ptr<uint8_t>() + used;
      std::memcpy(staging, t->data + off, static_cast<size_t>(part));
      if (device)
        copy.narrow(0, off, part).copy_(buffers[slot].narrow(0, used, part), /*non_blocking=*/true);
      else
        std::memcpy(copy.data_ptr<uint8_t>() + off, staging, static_cast<size_t>(part));
      used += part;
      off += part;
    }
    out->add(*t, std::move(copy));
  }
  if (device) {
    // Complete before the layer reads them; freed on the consumer's stream once it is done with them.
    waitFor(queued());
    if (consumer) out->forEach([&](const at::Tensor& t) { t.record_stream(*consumer); });
  }
  return out;
}

}  // namespace moe
