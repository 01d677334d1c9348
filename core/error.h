#pragma once
// One exception type for the whole core. The kind lets the one catch boundary (CLI main, GUI
// worker) map failures to exit codes or dialogs; the message always carries the context
// (file, tensor, expected vs actual) a user needs to act on it.
#include <stdexcept>
#include <string>

namespace moe {

enum class ErrorKind {
  Io,             // file missing, unreadable, unwritable, disk full
  Format,         // malformed safetensors / JSON / HDF5 content
  Shape,          // tensor shape differs from what the architecture expects
  MissingTensor,  // a tensor the architecture needs is absent
  Config,         // config.json missing or inconsistent
  Unsupported,    // unknown architecture, dtype or tokenizer feature
  InvalidArgument,// bad user input (options, plans, K values)
  Cancelled,      // the user asked to stop
  Stale,          // an analysis store no longer matches its model or calibration
};

inline const char* errorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Io: return "I/O error";
    case ErrorKind::Format: return "format error";
    case ErrorKind::Shape: return "shape mismatch";
    case ErrorKind::MissingTensor: return "missing tensor";
    case ErrorKind::Config: return "configuration error";
    case ErrorKind::Unsupported: return "unsupported";
    case ErrorKind::InvalidArgument: return "invalid argument";
    case ErrorKind::Cancelled: return "cancelled";
    case ErrorKind::Stale: return "stale analysis";
  }
  return "error";
}

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

}  // namespace moe
