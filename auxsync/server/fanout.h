// What InstServer shares with the other server nodes of an inst (spec 9.1,
// docs/server.md "Live fan-out across nodes"): the events its local sockets
// cause (new updates, presence), the watch registrations of its sockets, and
// frames for sockets of other nodes. The default Fanout is a single node:
// every call does nothing and no other node exists. RedisFanout
// (redis_fanout.h) is the one for `--store redis`.
//
// Threading: called from the InstServer's thread only; a Fanout hands what
// other nodes send to its FanoutReceiver on that same thread.

#ifndef AUXSYNC_SERVER_FANOUT_H_
#define AUXSYNC_SERVER_FANOUT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "auxsync/inst/messages.h"
#include "auxsync/inst/remote_envelopes.h"

namespace auxsync::server {

// The side of InstServer that frames from other nodes are delivered to.
class FanoutReceiver {
 public:
  virtual ~FanoutReceiver() = default;
  // Sends `frame` to every local branch-mode watcher of `ns`.
  virtual void DeliverToBranchWatchers(const inst::BranchNamespace& ns,
                                       const std::string& frame) = 0;
  // Sends `frame` to every local device watcher of `ns`.
  virtual void DeliverToDeviceWatchers(const inst::BranchNamespace& ns,
                                       const std::string& frame) = 0;
  // Sends `frame` to the local sockets with these serverConnectionIds
  // (unknown ones are skipped).
  virtual void DeliverToSockets(const std::vector<std::string>& sockets,
                                const std::string& frame) = 0;
  // Messages about `ns` may have been lost: re-read the branch from the
  // store and send it to the local branch-mode watchers (Yjs applies
  // duplicates idempotently).
  virtual void ResyncBranch(const inst::BranchNamespace& ns) = 0;
};

// A branch-mode watch registration of a socket on another node.
struct RemoteWatcher {
  std::string node;    // the node the socket is on
  std::string socket;  // its serverConnectionId
  inst::ConnectionInfo identity;
  bool temporary = false;
};

class Fanout {
 public:
  virtual ~Fanout() = default;
  // Where frames from other nodes go; set once by InstServer.
  virtual void SetReceiver(FanoutReceiver* receiver) { (void)receiver; }
  // The first local registration (either mode) on `ns` was added / the last
  // one removed: start / stop hearing about the branch.
  virtual void Listen(const inst::BranchNamespace& ns) { (void)ns; }
  virtual void StopListening(const inst::BranchNamespace& ns) { (void)ns; }
  // A local socket's branch-mode watch, added / removed (7.1).
  virtual void AddWatcher(const inst::BranchNamespace& ns,
                          const std::string& socket,
                          const inst::ConnectionInfo& identity,
                          bool temporary) {
    (void)ns, (void)socket, (void)identity, (void)temporary;
  }
  virtual void RemoveWatcher(const inst::BranchNamespace& ns,
                             const std::string& socket) {
    (void)ns, (void)socket;
  }
  // The branch-mode watchers of `ns` on other live nodes.
  virtual std::vector<RemoteWatcher> RemoteWatchers(
      const inst::BranchNamespace& ns) {
    (void)ns;
    return {};
  }
  // Logged-in sockets on the other live nodes (5.13).
  virtual int64_t RemoteSocketCount() { return 0; }
  // This node's logged-in sockets changed to `count`.
  virtual void SetLocalSocketCount(int64_t count) { (void)count; }
  // `frame` (repo/add_updates, already stored and sent to the local
  // watchers) for the branch-mode watchers of `ns` on other nodes.
  virtual void PublishUpdates(const inst::BranchNamespace& ns,
                              const std::string& frame) {
    (void)ns, (void)frame;
  }
  // `frame` (connected/disconnected, already sent to the local device
  // watchers) for the device watchers of `ns` on other nodes.
  virtual void PublishPresence(const inst::BranchNamespace& ns,
                               const std::string& frame) {
    (void)ns, (void)frame;
  }
  // `frame` for the given sockets of node `node`.
  virtual void SendToSockets(const std::string& node,
                             const std::vector<std::string>& sockets,
                             const std::string& frame) {
    (void)node, (void)sockets, (void)frame;
  }
};

}  // namespace auxsync::server

#endif  // AUXSYNC_SERVER_FANOUT_H_
