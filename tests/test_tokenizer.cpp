// Tokenizer (tokenizer.json) and calibration-text tests. The expected ids come from the
// Hugging Face `tokenizers` library (tests/data/tokenizers/*/expected_encodings.json).

#include "tests/catch.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/text/calibration.h"
#include "core/text/npy.h"
#include "core/text/tokenizer.h"

namespace fs = std::filesystem;
using moe::ErrorKind;
using moe::TokenId;
using moe::Tokenizer;

namespace {

const std::string kData = MOESCOPE_TEST_DATA;
const std::string kDemo = MOESCOPE_DEMO_DIR;

nlohmann::json readJson(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

// A fresh directory under the system temp dir, removed when the test ends.
struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    static const unsigned salt = std::random_device{}();
    path = fs::temp_directory_path() /
           ("moescope_tok_" + std::to_string(salt) + "_" + std::to_string(counter++));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string write(const std::string& name, const std::string& content) const {
    const fs::path file = path / name;
    std::ofstream(file, std::ios::binary) << content;
    return file.string();
  }
};

// Runs `fn`, requires a moe::Error of `kind`, returns its message.
template <typename Fn>
std::string errorOf(Fn&& fn, ErrorKind kind) {
  try {
    fn();
  } catch (const moe::Error& e) {
    INFO(e.what());
    CHECK(e.kind() == kind);
    return e.what();
  }
  FAIL("no moe::Error was thrown");
  return {};
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

void checkFixture(const std::string& name) {
  const std::string dir = kData + "/tokenizers/" + name;
  const Tokenizer tok = Tokenizer::fromFile(dir + "/tokenizer.json");
  const auto expected = readJson(dir + "/expected_encodings.json");
  REQUIRE(expected["tokenizer"] == name);
  const auto& cases = expected["cases"];
  REQUIRE(cases.size() >= 20);
  size_t passed = 0;
  for (const auto& c : cases) {
    const auto text = c["text"].get<std::string>();
    const auto ids = c["ids"].get<std::vector<TokenId>>();
    INFO(name << " text: " << text);
    const auto got = tok.encode(text);
    CHECK(got == ids);
    CHECK(tok.decode(ids) == c["decoded"].get<std::string>());
    if (got == ids) ++passed;
  }
  CHECK(passed == cases.size());
}

std::vector<TokenId> concat(std::vector<TokenId> a, const std::vector<TokenId>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A .npy file written by hand: version 1.0 header padded to 64 bytes, then raw values.
std::string npyBytes(const std::string& descr, const std::string& shape, const std::string& data,
                     bool fortran = false) {
  std::string header = "{'descr': '" + descr +
                       "', 'fortran_order': " + (fortran ? "True" : "False") +
                       ", 'shape': " + shape + ", }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xFF);
  out += static_cast<char>(header.size() >> 8);
  return out + header + data;
}

template <typename T>
std::string littleEndian(const std::vector<T>& values) {
  std::string out;
  for (T v : values) {
    auto u = static_cast<uint64_t>(v);
    for (size_t b = 0; b < sizeof(T); ++b) out += static_cast<char>((u >> (8 * b)) & 0xFF);
  }
  return out;
}

}  // namespace

TEST_CASE("byte-level BPE matches Hugging Face on every fixture case", "[tokenizer]") {
  checkFixture("bytelevel");
}

TEST_CASE("Metaspace BPE with byte fallback matches Hugging Face on every fixture case",
          "[tokenizer]") {
  checkFixture("metaspace");
}

TEST_CASE("token lookup and vocabulary size", "[tokenizer]") {
  const Tokenizer tok = Tokenizer::fromFile(kData + "/tokenizers/bytelevel/tokenizer.json");
  CHECK(tok.tokenToId("<|endoftext|>") == 0);
  CHECK(tok.tokenToId("<|im_end|>") == 2);
  CHECK_FALSE(tok.tokenToId("no such token").has_value());
  CHECK(tok.idToToken(0) == std::string("<|endoftext|>"));
  CHECK(tok.vocabSize() == 4096);
  CHECK(tok.isSpecialToken(0));
  CHECK_FALSE(tok.isSpecialToken(42));
  CHECK(tok.decode({42, 0, 924}, true) == tok.decode({42, 924}));
}

TEST_CASE("added tokens are cut out of the raw text first", "[tokenizer]") {
  SECTION("byte-level") {
    const Tokenizer tok = Tokenizer::fromFile(kData + "/tokenizers/bytelevel/tokenizer.json");
    CHECK(tok.encode("Hello<|endoftext|> world") ==
          concat(concat(tok.encode("Hello"), {0}), tok.encode(" world")));
    const std::string chat = "<|im_start|>user\nHi there<|im_end|>";
    const auto ids = tok.encode(chat);
    CHECK(ids.front() == 1);
    CHECK(ids.back() == 2);
    CHECK(tok.decode(ids) == chat);
    CHECK(tok.encode("<|endoftext|><|endoftext|>") == std::vector<TokenId>{0, 0});
    // A near miss is ordinary text.
    const auto nearMiss = tok.encode("<|endoftext|");
    CHECK(std::find(nearMiss.begin(), nearMiss.end(), 0) == nearMiss.end());
  }
  SECTION("metaspace: only the very start of the input gets the word marker") {
    const Tokenizer tok = Tokenizer::fromFile(kData + "/tokenizers/metaspace/tokenizer.json");
    CHECK(tok.encode("Hello</s>") == concat(tok.encode("Hello"), {2}));
    const auto ids = tok.encode("<s>Hello");
    REQUIRE(ids.size() >= 2);
    CHECK(ids.front() == 1);
    const std::vector<TokenId> rest(ids.begin() + 1, ids.end());
    CHECK(rest != tok.encode("Hello"));  // no "▁" before Hello after a special token
    CHECK(tok.decode(ids) == "<s>Hello");
  }
}

TEST_CASE("other supported pipeline stages", "[tokenizer]") {
  const std::string byteLevelPath = kData + "/tokenizers/bytelevel/tokenizer.json";
  const Tokenizer reference = Tokenizer::fromFile(byteLevelPath);
  const auto config = readJson(byteLevelPath);

  SECTION("ByteLevel with its built-in GPT-2 regex and prefix space") {
    auto cfg = config;
    cfg["pre_tokenizer"] = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"use_regex", true}};
    const Tokenizer tok = Tokenizer::fromJson(cfg.dump());
    CHECK(tok.encode("Hello world! It's fine.") == reference.encode(" Hello world! It's fine."));
  }
  SECTION("WhitespaceSplit and Digits") {
    auto cfg = config;
    cfg["pre_tokenizer"] = {
        {"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "WhitespaceSplit"}},
          {{"type", "Digits"}, {"individual_digits", true}},
          {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}}}};
    const Tokenizer tok = Tokenizer::fromJson(cfg.dump());
    CHECK(tok.encode("ab  123\n") == reference.encode("ab123"));
  }
  SECTION("legacy SentencePiece layout: Prepend + Replace normalizer, no pre-tokenizer") {
    auto cfg = readJson(kData + "/tokenizers/metaspace/tokenizer.json");
    cfg["pre_tokenizer"] = nullptr;
    cfg["normalizer"] = {
        {"type", "Sequence"},
        {"normalizers",
         {{{"type", "Prepend"}, {"prepend", "\u2581"}},
          {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\u2581"}}}}};
    const Tokenizer tok = Tokenizer::fromJson(cfg.dump());
    const std::string text = "The quick brown fox, 42 \xF0\x9F\x99\x82 caf\xC3\xA9.";
    const auto ids = tok.encode(text);
    CHECK(tok.decode(ids) == text);
    CHECK(tok.idToToken(ids.front())->rfind("\u2581", 0) == 0);  // starts with the marker
  }
  SECTION("no decoder joins tokens with spaces") {
    auto cfg = config;
    cfg["decoder"] = nullptr;
    const Tokenizer tok = Tokenizer::fromJson(cfg.dump());
    CHECK(tok.decode({42, 924, 81, 857}) == "H ell o \xC4\xA0world");  // "Hello world"
  }
}

TEST_CASE("invalid UTF-8 input is replaced, not rejected", "[tokenizer]") {
  const Tokenizer tok = Tokenizer::fromFile(kData + "/tokenizers/bytelevel/tokenizer.json");
  CHECK(tok.encode("a\xFF"
                   "b") == tok.encode("a\xEF\xBF\xBD"
                                      "b"));
}

TEST_CASE("tokenizer.json errors name the file and the feature", "[tokenizer][errors]") {
  TempDir dir;
  auto config = readJson(kData + "/tokenizers/bytelevel/tokenizer.json");

  SECTION("unknown model type") {
    auto bad = config;
    bad["model"]["type"] = "Unigram";
    const std::string path = dir.write("tokenizer.json", bad.dump());
    const auto msg = errorOf([&] { Tokenizer::fromFile(path); }, ErrorKind::Unsupported);
    CHECK(contains(msg, "model type \"Unigram\" is not supported"));
    CHECK(contains(msg, path));
  }
  SECTION("unknown pre-tokenizer, normalizer and decoder") {
    auto bad = config;
    bad["pre_tokenizer"] = {{"type", "BertPreTokenizer"}};
    CHECK(contains(errorOf([&] { Tokenizer::fromJson(bad.dump()); }, ErrorKind::Unsupported),
                   "BertPreTokenizer"));
    bad = config;
    bad["normalizer"] = {{"type", "Lowercase"}};
    CHECK(contains(errorOf([&] { Tokenizer::fromJson(bad.dump()); }, ErrorKind::Unsupported),
                   "Lowercase"));
    bad = config;
    bad["decoder"] = {{"type", "WordPiece"}};
    CHECK(contains(errorOf([&] { Tokenizer::fromJson(bad.dump()); }, ErrorKind::Unsupported),
                   "WordPiece"));
  }
  SECTION("malformed JSON and missing file") {
    const std::string path = dir.write("tokenizer.json", "{\"model\": ");
    CHECK(contains(errorOf([&] { Tokenizer::fromFile(path); }, ErrorKind::Format), path));
    const std::string missing = (dir.path / "absent.json").string();
    CHECK(contains(errorOf([&] { Tokenizer::fromFile(missing); }, ErrorKind::Io), missing));
  }
  SECTION("bad split regex") {
    auto bad = config;
    bad["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "(unclosed";
    errorOf([&] { Tokenizer::fromJson(bad.dump()); }, ErrorKind::Format);
  }
}

TEST_CASE("demo calibration protocol", "[calibration]") {
  const Tokenizer tok = Tokenizer::fromFile(kDemo + "/demo-moe/tokenizer.json");
  const auto eos = tok.tokenToId("<|endoftext|>");
  REQUIRE(eos == 0);
  const std::string path = kDemo + "/calib.jsonl";
  const auto docs = moe::readCalibrationDocuments(path);
  REQUIRE(docs.size() == 180);

  const auto start = std::chrono::steady_clock::now();
  const auto stream = moe::loadCalibrationStream(path, tok, *eos);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  WARN("tokenized " << stream.size() << " tokens of " << path << " in " << seconds << " s");
  CHECK(seconds < 5.0);
  REQUIRE(stream.size() >= 32 * 256);

  // EOS right after each document, and nowhere else.
  size_t pos = 0;
  for (const auto& doc : docs) {
    pos += tok.encode(doc).size();
    REQUIRE(pos < stream.size());
    CHECK(stream[pos] == 0);
    ++pos;
  }
  CHECK(pos == stream.size());
  CHECK(std::count(stream.begin(), stream.end(), 0) == static_cast<long>(docs.size()));

  const auto batch = moe::leadingSequences(stream, 32, 256);
  CHECK(batch.numSequences == 32);
  CHECK(batch.seqLen == 256);
  REQUIRE(batch.ids.size() == 32 * 256);
  CHECK(std::equal(batch.ids.begin(), batch.ids.end(), stream.begin()));
  CHECK(batch.sequence(1)[0] == stream[256]);

  const auto ppl = moe::consecutiveSequences(stream, 256);
  CHECK(ppl.numSequences == stream.size() / 256);
  CHECK(ppl.ids.size() == ppl.numSequences * 256);

  const size_t available = stream.size();
  const auto msg =
      errorOf([&] { moe::leadingSequences(stream, 100000, 256); }, ErrorKind::InvalidArgument);
  CHECK(contains(msg, std::to_string(available)));
}

TEST_CASE("random windows are deterministic for a seed", "[calibration]") {
  std::vector<TokenId> stream(5000);
  for (size_t i = 0; i < stream.size(); ++i) stream[i] = static_cast<TokenId>(i);
  const auto a = moe::randomWindows(stream, 16, 64, 1234);
  const auto b = moe::randomWindows(stream, 16, 64, 1234);
  const auto c = moe::randomWindows(stream, 16, 64, 99);
  CHECK(a.ids == b.ids);
  CHECK(a.ids != c.ids);
  REQUIRE(a.ids.size() == 16 * 64);
  for (size_t w = 0; w < a.numSequences; ++w) {
    const TokenId* window = a.sequence(w);
    for (size_t k = 1; k < 64; ++k) CHECK(window[k] == window[0] + static_cast<TokenId>(k));
    CHECK(window[63] < 5000);
  }
  errorOf([&] { moe::randomWindows(stream, 4, 6000, 1); }, ErrorKind::InvalidArgument);
}

TEST_CASE("calibration file errors", "[calibration][errors]") {
  TempDir dir;
  const std::string empty = dir.write("empty.jsonl", "");
  CHECK(contains(errorOf([&] { moe::readCalibrationDocuments(empty); }, ErrorKind::InvalidArgument),
                 "empty"));
  const std::string blank = dir.write("blank.txt", "\n  \n\n");
  errorOf([&] { moe::readCalibrationDocuments(blank); }, ErrorKind::InvalidArgument);

  const std::string noField =
      dir.write("nofield.jsonl", "{\"text\": \"ok\"}\n{\"content\": \"x\"}\n");
  const auto msg =
      errorOf([&] { moe::readCalibrationDocuments(noField); }, ErrorKind::InvalidArgument);
  CHECK(contains(msg, ":2"));
  CHECK(contains(msg, "\"text\""));
  CHECK(contains(msg, "content"));

  moe::CalibReadOptions options;
  options.textField = "content";
  const std::string other =
      dir.write("other.jsonl", "{\"content\": \"a\"}\n\n{\"content\": \"b\"}\n");
  CHECK(moe::readCalibrationDocuments(other, options) == std::vector<std::string>{"a", "b"});

  const std::string badJson = dir.write("bad.jsonl", "{\"text\": \"a\"}\n{oops\n");
  CHECK(
      contains(errorOf([&] { moe::readCalibrationDocuments(badJson); }, ErrorKind::Format), ":2"));
  const std::string missing = (dir.path / "missing.jsonl").string();
  errorOf([&] { moe::readCalibrationDocuments(missing); }, ErrorKind::Io);
}

TEST_CASE("plain text: one document per blank-line-separated paragraph", "[calibration]") {
  TempDir dir;
  const std::string path = dir.write("notes.txt",
                                     "\xEF\xBB\xBF"
                                     "first line\r\nsecond line\n\n\n  \nnext para\n");
  CHECK(moe::readCalibrationDocuments(path) ==
        std::vector<std::string>{"first line\nsecond line", "next para"});
  moe::CalibReadOptions whole;
  whole.plainTextSplit = moe::PlainTextSplit::WholeFile;
  CHECK(moe::readCalibrationDocuments(path, whole).size() == 1);
  const std::string array = dir.write("docs.json", "[{\"text\": \"x\"}, \"y\"]");
  CHECK(moe::readCalibrationDocuments(array) == std::vector<std::string>{"x", "y"});
}

TEST_CASE(".npy token ids round-trip", "[calibration][npy]") {
  TempDir dir;
  const Tokenizer tok = Tokenizer::fromFile(kData + "/tokenizers/bytelevel/tokenizer.json");

  const std::vector<int32_t> ids32{5, 0, 4095, 17, 42};
  const std::string p32 = dir.write("ids32.npy", npyBytes("<i4", "(5,)", littleEndian(ids32)));
  const auto r32 = moe::readNpyTokenIds(p32);
  CHECK(r32.shape == std::vector<size_t>{5});
  CHECK(r32.ids == std::vector<TokenId>(ids32.begin(), ids32.end()));
  CHECK(moe::loadCalibrationStream(p32, tok, 0) == r32.ids);

  const std::vector<int64_t> ids64{1, 2, 3, 4, 5, 6};
  const std::string p64 = dir.write("ids64.npy", npyBytes("<i8", "(2, 3)", littleEndian(ids64)));
  const auto r64 = moe::readNpyTokenIds(p64);
  CHECK(r64.shape == std::vector<size_t>{2, 3});
  CHECK(r64.ids == std::vector<TokenId>{1, 2, 3, 4, 5, 6});
  const auto rows = moe::leadingSequences(r64.ids, 2, 3);
  CHECK(rows.sequence(1)[0] == 4);

  const std::vector<uint16_t> ids16{65535, 7};
  const auto r16 =
      moe::readNpyTokenIds(dir.write("ids16.npy", npyBytes("<u2", "(2,)", littleEndian(ids16))));
  CHECK(r16.ids == std::vector<TokenId>{65535, 7});
  const std::vector<uint32_t> idsU32{3, 9};
  const auto rU32 =
      moe::readNpyTokenIds(dir.write("idsu32.npy", npyBytes("<u4", "(2,)", littleEndian(idsU32))));
  CHECK(rU32.ids == std::vector<TokenId>{3, 9});

  // Ids beyond the tokenizer's vocabulary, negative ids, floats, Fortran order, truncation.
  const std::string tooBig =
      dir.write("big.npy", npyBytes("<i4", "(1,)", littleEndian(std::vector<int32_t>{5000})));
  errorOf([&] { moe::loadCalibrationStream(tooBig, tok, 0); }, ErrorKind::InvalidArgument);
  const std::string negative =
      dir.write("neg.npy", npyBytes("<i8", "(1,)", littleEndian(std::vector<int64_t>{-1})));
  errorOf([&] { moe::readNpyTokenIds(negative); }, ErrorKind::Format);
  const std::string floats = dir.write("f.npy", npyBytes("<f4", "(1,)", std::string(4, '\0')));
  errorOf([&] { moe::readNpyTokenIds(floats); }, ErrorKind::Unsupported);
  const std::string fortran =
      dir.write("fo.npy", npyBytes("<i4", "(1, 1)", std::string(4, '\0'), true));
  errorOf([&] { moe::readNpyTokenIds(fortran); }, ErrorKind::Unsupported);
  const std::string truncated = dir.write("tr.npy", npyBytes("<i4", "(3,)", std::string(4, '\0')));
  errorOf([&] { moe::readNpyTokenIds(truncated); }, ErrorKind::Format);
  const std::string notNpy = dir.write("text.npy", "hello");
  errorOf([&] { moe::readNpyTokenIds(notNpy); }, ErrorKind::Format);
}

TEST_CASE(".npy headers cannot claim more ids than the file holds", "[calibration][npy][hardening]") {
  TempDir dir;
  SECTION("shape (2^32, 2^32): the count overflowed to 0 ids and was accepted") {
    const std::string path = dir.write("square.npy", npyBytes("<i4", "(4294967296, 4294967296)", ""));
    const auto msg = errorOf([&] { moe::readNpyTokenIds(path); }, ErrorKind::Format);
    CHECK(contains(msg, path));
    CHECK(contains(msg, "(4294967296, 4294967296)"));
  }
  SECTION("shape (2^31, 2^30) of int64: the byte count wrapped to 0 and std::length_error escaped") {
    const std::string path = dir.write("wrap.npy", npyBytes("<i8", "(2147483648, 1073741824)", std::string(8, '\0')));
    const auto msg = errorOf([&] { moe::readNpyTokenIds(path); }, ErrorKind::Format);
    CHECK(contains(msg, "needs more than the 1 values of 8 bytes"));
  }
  SECTION("a shape entry of 23 digits") {
    const std::string path = dir.write("digits.npy", npyBytes("<i1", "(99999999999999999999999,)", "x"));
    CHECK(contains(errorOf([&] { moe::readNpyTokenIds(path); }, ErrorKind::Format), "too large"));
  }
}

TEST_CASE("tokenizer.json: \\C is refused, it splits UTF-8 characters", "[tokenizer][errors][hardening]") {
  // \C followed by another regex stage handed invalid UTF-8 to PCRE2 with PCRE2_NO_UTF_CHECK, and
  // encode() threw std::out_of_range.
  const nlohmann::json cfg = {
      {"model", {{"type", "BPE"}, {"vocab", {{"a", 0}}}, {"merges", nlohmann::json::array()}}},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "Split"}, {"pattern", {{"Regex", "\\C"}}}, {"behavior", "Isolated"}, {"invert", false}},
          {{"type", "Split"}, {"pattern", {{"Regex", "\\s+"}}}, {"behavior", "Removed"}, {"invert", false}}}}}}};
  const auto msg = errorOf([&] { Tokenizer::fromJson(cfg.dump(), "c.json").encode("\xc3\xa9 x"); }, ErrorKind::Format);
  CHECK(contains(msg, "c.json"));
  CHECK(contains(msg, "\\C"));
}

TEST_CASE("tokenizer.json: vocabulary ids are bounded before the id table is allocated", "[tokenizer][errors][hardening]") {
  // Ids 1e9 (a 32 GB table) and 2^31 - 1 (maxId + 1 overflowed int) are refused with the limit.
  for (const int64_t id : {int64_t{16777216}, int64_t{1000000000}, int64_t{2147483647}}) {
    const nlohmann::json cfg = {{"model", {{"type", "BPE"}, {"vocab", {{"a", 0}, {"b", id}}}, {"merges", nlohmann::json::array()}}}};
    const auto msg = errorOf([&] { Tokenizer::fromJson(cfg.dump(), "v.json"); }, ErrorKind::Format);
    CHECK(contains(msg, "v.json"));
    CHECK(contains(msg, "\"b\" has id " + std::to_string(id)));
    CHECK(contains(msg, "[0, 16777216)"));
  }
  const nlohmann::json ok = {{"model", {{"type", "BPE"}, {"vocab", {{"a", 0}, {"b", 16777215}}}, {"merges", nlohmann::json::array()}}}};
  CHECK(Tokenizer::fromJson(ok.dump()).vocabSize() == 16777216);
}
