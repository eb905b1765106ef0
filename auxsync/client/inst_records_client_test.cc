#include "auxsync/client/inst_records_client.h"

#include <string>
#include <vector>

#include "auxsync/client/memory_connection_client.h"
#include "gtest/gtest.h"

namespace auxsync::client {
namespace {

TEST(InstRecordsClient, Placeholder) {
  MemoryConnectionClient conn;
  InstRecordsClient client(conn);
  EXPECT_EQ(client.PendingCount({std::nullopt, "inst", "b"}), 0u);
}

}  // namespace
}  // namespace auxsync::client
