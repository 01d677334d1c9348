#pragma once
// Shared by the libFuzzer harnesses. Harness rule: call the reader, catch moe::Error only; any other
// exception, a crash, a sanitizer report, a leak or a broken invariant (FUZZ_CHECK) is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

namespace moe::fuzz {

// A private scratch folder for this process (created on first use, removed at exit).
const std::string& scratchDir();

// Writes the bytes to scratchDir()/name and returns the path: for readers that take a path.
std::string writeScratch(const std::string& name, const uint8_t* data, size_t size);
std::string writeScratch(const std::string& name, const std::string& bytes);

[[noreturn]] void invariantFailed(const char* what, const char* file, int line);

}  // namespace moe::fuzz

// An invariant every accepted input must satisfy; aborts (a finding) when it does not.
#define FUZZ_CHECK(cond) \
  do {                   \
    if (!(cond)) ::moe::fuzz::invariantFailed(#cond, __FILE__, __LINE__); \
  } while (0)
