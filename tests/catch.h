#pragma once
#include <string>

// Catch2 v2 (Debian 12) and v3 (Debian 13) side by side: every test includes this header instead
// of Catch's own, and uses the names below, which mean the same in both.
#if __has_include(<catch2/catch_all.hpp>)
#include <catch2/catch_all.hpp>
using Catch::Approx;
namespace moe::test {
// A string matcher "contains this substring" (v3 renamed it; its Contains matches range elements).
inline auto Contains(const std::string& needle) { return Catch::Matchers::ContainsSubstring(needle); }
}  // namespace moe::test
#else
#include <catch2/catch.hpp>
namespace moe::test {
inline auto Contains(const std::string& needle) { return Catch::Matchers::Contains(needle); }
}  // namespace moe::test
#endif
