// crdt_replay: replays one Yjs vector file (shared/vectors/yjs format) on the
// auxsync CRDT engine.
//
//   crdt_replay FILE            prints the mismatches against the file's
//                               expectations (one per line, at most 20);
//                               exit 0 if none, 1 otherwise
//   crdt_replay --actual FILE   prints the replay itself as JSON, in the
//                               vector format (`expect` = what the engine
//                               produced); exit 0
//
// Exit 2 on usage errors or an unreadable / invalid file. Driven by
// interop/yjs_diff.mjs, which compares `--actual` output with the real yjs.
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>

#include "auxsync/crdt/testing/vector_runner.h"

int main(int argc, char** argv) {
  namespace t = auxsync::crdt::testing;
  bool actual = false;
  std::string file;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--actual") {
      actual = true;
    } else if (!a.empty() && a[0] != '-' && file.empty()) {
      file = std::string(a);
    } else {
      std::cerr << "usage: crdt_replay [--actual] FILE\n";
      return 2;
    }
  }
  if (file.empty()) {
    std::cerr << "usage: crdt_replay [--actual] FILE\n";
    return 2;
  }
  absl::StatusOr<t::Json> vector = t::ReadVectorFile(file);
  if (!vector.ok()) {
    std::cerr << "crdt_replay: " << vector.status().message() << "\n";
    return 2;
  }
  if (actual) {
    std::cout << t::ReplayVector(*vector).dump(
                     -1, ' ', false, t::Json::error_handler_t::replace)
              << "\n";
    return 0;
  }
  std::vector<t::Mismatch> mismatches = t::CheckVector(*vector);
  const std::string name = vector->value("name", file);
  for (const t::Mismatch& m : mismatches) std::cout << m.ToString() << "\n";
  std::cout << (mismatches.empty() ? "PASS " : "FAIL ") << name << "\n";
  return mismatches.empty() ? 0 : 1;
}
