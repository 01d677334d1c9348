// Catch2's main() compiled once and shared by every test executable (v2 and v3 alike: v3 no longer
// generates main from CATCH_CONFIG_MAIN in a header).
#define CATCH_CONFIG_RUNNER
#include "tests/catch.h"

int main(int argc, char* argv[]) { return Catch::Session().run(argc, argv); }
