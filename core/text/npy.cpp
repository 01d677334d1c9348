#include "core/text/npy.h"

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>

#include "core/error.h"
#include "core/limits.h"

namespace moe {
namespace {

Error formatError(const std::string& path, const std::string& what) {
  return Error(ErrorKind::Format, path + ": not a usable .npy token file: " + what);
}

// Text right after `'key':` in the header dict (NumPy writes a Python dict literal).
size_t valueStart(const std::string& header, const std::string& key, const std::string& path) {
  size_t at = header.find("'" + key + "'");
  if (at == std::string::npos) at = header.find("\"" + key + "\"");
  if (at == std::string::npos) throw formatError(path, "header has no '" + key + "'");
  at = header.find(':', at + key.size() + 2);
  if (at == std::string::npos) throw formatError(path, "header entry '" + key + "' has no value");
  ++at;
  while (at < header.size() && header[at] == ' ') ++at;
  return at;
}

std::string parseDescr(const std::string& header, const std::string& path) {
  const size_t start = valueStart(header, "descr", path);
  if (start >= header.size() || (header[start] != '\'' && header[start] != '"')) {
    throw formatError(path, "'descr' is not a simple dtype string");
  }
  const size_t end = header.find(header[start], start + 1);
  if (end == std::string::npos) throw formatError(path, "unterminated 'descr'");
  return header.substr(start + 1, end - start - 1);
}

std::vector<size_t> parseShape(const std::string& header, const std::string& path) {
  size_t at = valueStart(header, "shape", path);
  if (at >= header.size() || header[at] != '(') throw formatError(path, "'shape' is not a tuple");
  const size_t close = header.find(')', at);
  if (close == std::string::npos) throw formatError(path, "unterminated 'shape'");
  std::vector<size_t> shape;
  size_t i = at + 1;
  while (i < close) {
    while (i < close && (header[i] == ' ' || header[i] == ',')) ++i;
    if (i >= close) break;
    size_t value = 0;
    const size_t digitsStart = i;
    while (i < close && header[i] >= '0' && header[i] <= '9') {
      // A dimension can never exceed the file's size in bytes; bounding it here keeps value*10 exact.
      if (value > std::numeric_limits<uint32_t>::max())
        throw formatError(path, "'shape' entry " + header.substr(digitsStart, i - digitsStart) + "... is too large");
      value = value * 10 + static_cast<size_t>(header[i] - '0');
      ++i;
    }
    if (i == digitsStart) throw formatError(path, "'shape' has a non-integer entry");
    while (i < close && (header[i] == 'L' || header[i] == ' ')) ++i;  // Python 2 longs
    shape.push_back(value);
  }
  return shape;
}

std::string shapeText(const std::vector<size_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + ")";
}

NpyTokenIds readNpy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorKind::Io, "cannot open " + path + ": " + std::strerror(errno));
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw Error(ErrorKind::Io, "cannot read " + path);
  if (bytes.empty())
    throw Error(ErrorKind::InvalidArgument, "calibration file " + path + " is empty");

  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) {
    throw formatError(path, "missing the \\x93NUMPY magic");
  }
  const auto major = static_cast<unsigned char>(bytes[6]);
  size_t headerLen = 0, headerStart = 0;
  if (major == 1) {
    headerLen = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw formatError(path, "truncated header");
    for (int k = 3; k >= 0; --k)
      headerLen = (headerLen << 8) | static_cast<unsigned char>(bytes[8 + k]);
    headerStart = 12;
  } else {
    throw formatError(path, "unknown format version " + std::to_string(major));
  }
  if (headerLen > limits::kMaxNpyHeader)
    throw formatError(path, "header length " + std::to_string(headerLen) + " exceeds the " +
                                std::to_string(limits::kMaxNpyHeader) + "-byte limit");
  if (headerStart + headerLen > bytes.size()) throw formatError(path, "truncated header");
  const std::string header = bytes.substr(headerStart, headerLen);

  const std::string descr = parseDescr(header, path);
  const size_t fortranAt = valueStart(header, "fortran_order", path);
  if (header.compare(fortranAt, 4, "True") == 0) {
    throw Error(ErrorKind::Unsupported, path +
                                            ": Fortran-ordered .npy arrays are not supported "
                                            "(save with C order, e.g. np.ascontiguousarray)");
  }
  if (descr.size() < 3 || (descr[0] != '<' && descr[0] != '|' && descr[0] != '=')) {
    throw Error(ErrorKind::Unsupported, path + ": dtype '" + descr +
                                            "' is not supported (need "
                                            "little-endian int32, int64, uint16 or uint32)");
  }
  const char kind = descr[1];
  const std::string widthText = descr.substr(2);
  const int width = widthText == "1" ? 1 : widthText == "2" ? 2 : widthText == "4" ? 4 : widthText == "8" ? 8 : 0;
  if ((kind != 'i' && kind != 'u') || (width != 1 && width != 2 && width != 4 && width != 8) ||
      (width > 1 && descr[0] == '|')) {
    throw Error(ErrorKind::Unsupported, path + ": dtype '" + descr +
                                            "' is not supported (need "
                                            "little-endian int32, int64, uint16 or uint32)");
  }

  NpyTokenIds result;
  result.shape = parseShape(header, path);
  if (result.shape.empty() || result.shape.size() > 2) {
    throw formatError(path, "token ids must be 1-D or 2-D, got " +
                                std::to_string(result.shape.size()) + " dimensions");
  }
  // The element count is checked against the data actually present before anything is allocated.
  const size_t dataStart = headerStart + headerLen;
  const size_t available = (bytes.size() - dataStart) / static_cast<size_t>(width);
  size_t count = 1;
  for (size_t d : result.shape) {
    if (d != 0 && count > available / d)
      throw formatError(path, "shape " + shapeText(result.shape) + " needs more than the " +
                                  std::to_string(available) + " values of " + std::to_string(width) +
                                  " bytes the file holds (truncated or corrupt)");
    count *= d;
  }
  if (count > available) {
    throw formatError(path, "data is truncated (" + std::to_string(count) + " values of " +
                                std::to_string(width) + " bytes expected, " + std::to_string(available) + " present)");
  }
  result.ids.resize(count);
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data() + dataStart);
  for (size_t k = 0; k < count; ++k) {
    uint64_t raw = 0;
    for (int b = width - 1; b >= 0; --b) raw = (raw << 8) | data[k * width + b];
    int64_t value = 0;
    if (kind == 'u') {
      if (raw > static_cast<uint64_t>(std::numeric_limits<TokenId>::max()))
        value = -1;
      else
        value = static_cast<int64_t>(raw);
    } else {
      const int shift = 64 - 8 * width;  // sign-extend the stored width
      value = static_cast<int64_t>(raw << shift) >> shift;
    }
    if (value < 0 || value > std::numeric_limits<TokenId>::max()) {
      throw formatError(path, "value #" + std::to_string(k) + " is not a valid token id");
    }
    result.ids[k] = static_cast<TokenId>(value);
  }
  return result;
}

}  // namespace

NpyTokenIds readNpyTokenIds(const std::string& path) {
  return readerBoundary(path, [&] { return readNpy(path); });
}

}  // namespace moe
