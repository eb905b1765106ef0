// Copyright 2025 The auxsync Authors.

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "auxsync/rx/behavior_subject.h"
#include "auxsync/rx/subject.h"
#include "auxsync/rx/subscription.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace auxsync::rx {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// ---------------------------------------------------------------------------
// Subscription

TEST(Subscription, DefaultIsEmptyAndUnsubscribeIsANoOp) {
  Subscription subscription;
  EXPECT_FALSE(subscription.active());
  subscription.Unsubscribe();
  EXPECT_FALSE(subscription.active());
}

TEST(Subscription, DestructionRunsTeardownOnce) {
  int calls = 0;
  {
    Subscription subscription([&calls] { ++calls; });
    EXPECT_TRUE(subscription.active());
    EXPECT_EQ(calls, 0);
  }
  EXPECT_EQ(calls, 1);
}

TEST(Subscription, UnsubscribeIsIdempotent) {
  int calls = 0;
  {
    Subscription subscription([&calls] { ++calls; });
    subscription.Unsubscribe();
    EXPECT_FALSE(subscription.active());
    subscription.Unsubscribe();
    subscription.Unsubscribe();
  }
  EXPECT_EQ(calls, 1);
}

TEST(Subscription, MoveConstructionTransfersOwnership) {
  int calls = 0;
  std::optional<Subscription> moved_to;
  {
    Subscription original([&calls] { ++calls; });
    moved_to.emplace(std::move(original));
    EXPECT_FALSE(original.active());  // NOLINT(bugprone-use-after-move)
  }
  EXPECT_EQ(calls, 0) << "the moved-from handle must not tear down";
  ASSERT_TRUE(moved_to->active());
  moved_to.reset();
  EXPECT_EQ(calls, 1);
}

TEST(Subscription, MoveAssignmentEndsTheOldRegistration) {
  int first = 0;
  int second = 0;
  Subscription target([&first] { ++first; });
  Subscription source([&second] { ++second; });
  target = std::move(source);
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 0);
  EXPECT_FALSE(source.active());  // NOLINT(bugprone-use-after-move)
  target.Unsubscribe();
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 1);
}

TEST(Subscription, SelfMoveAssignmentKeepsTheRegistration) {
  int calls = 0;
  Subscription subscription([&calls] { ++calls; });
  Subscription& alias = subscription;
  subscription = std::move(alias);
  EXPECT_EQ(calls, 0);
  EXPECT_TRUE(subscription.active());
  subscription.Unsubscribe();
  EXPECT_EQ(calls, 1);
}

TEST(Subscription, UnsubscribeFromInsideTheTeardownDoesNotRecurse) {
  int calls = 0;
  Subscription subscription;
  subscription = Subscription([&] {
    ++calls;
    subscription.Unsubscribe();
  });
  subscription.Unsubscribe();
  EXPECT_EQ(calls, 1);
}

// ---------------------------------------------------------------------------
// Subject

TEST(Subject, NextWithoutObserversDoesNothing) {
  Subject<int> subject;
  EXPECT_EQ(subject.observer_count(), 0u);
  subject.Next(1);
  EXPECT_EQ(subject.observer_count(), 0u);
}

TEST(Subject, EmitsToObserversInSubscriptionOrder) {
  Subject<int> subject;
  std::vector<std::string> log;
  Subscription a = subject.Subscribe(
      [&](const int& v) { log.push_back("a" + std::to_string(v)); });
  Subscription b = subject.Subscribe(
      [&](const int& v) { log.push_back("b" + std::to_string(v)); });
  Subscription c = subject.Subscribe(
      [&](const int& v) { log.push_back("c" + std::to_string(v)); });
  EXPECT_EQ(subject.observer_count(), 3u);
  subject.Next(1);
  subject.Next(2);
  EXPECT_THAT(log, ElementsAre("a1", "b1", "c1", "a2", "b2", "c2"));
}

TEST(Subject, DoesNotReplayEarlierValues) {
  Subject<int> subject;
  subject.Next(1);
  std::vector<int> seen;
  Subscription s = subject.Subscribe([&](const int& v) { seen.push_back(v); });
  EXPECT_THAT(seen, IsEmpty());
  subject.Next(2);
  EXPECT_THAT(seen, ElementsAre(2));
}

TEST(Subject, DroppingTheSubscriptionUnsubscribes) {
  Subject<int> subject;
  std::vector<int> seen;
  {
    Subscription s =
        subject.Subscribe([&](const int& v) { seen.push_back(v); });
    subject.Next(1);
    EXPECT_EQ(subject.observer_count(), 1u);
  }
  EXPECT_EQ(subject.observer_count(), 0u);
  subject.Next(2);
  EXPECT_THAT(seen, ElementsAre(1));
}

TEST(Subject, UnsubscribeIsIdempotentAndCountsOnce) {
  Subject<int> subject;
  std::vector<int> seen;
  Subscription a = subject.Subscribe([&](const int& v) { seen.push_back(v); });
  Subscription b = subject.Subscribe([](const int&) {});
  a.Unsubscribe();
  a.Unsubscribe();
  EXPECT_EQ(subject.observer_count(), 1u);
  subject.Next(1);
  EXPECT_THAT(seen, IsEmpty());
  b.Unsubscribe();
  EXPECT_EQ(subject.observer_count(), 0u);
}

TEST(Subject, ObserverCanUnsubscribeItselfDuringNext) {
  Subject<int> subject;
  std::vector<std::string> log;
  Subscription self;
  self = subject.Subscribe([&](const int& v) {
    log.push_back("self" + std::to_string(v));
    self.Unsubscribe();
    // The callback is still running: its captures must still be alive.
    log.push_back("after" + std::to_string(v));
  });
  Subscription other = subject.Subscribe(
      [&](const int& v) { log.push_back("other" + std::to_string(v)); });
  subject.Next(1);
  subject.Next(2);
  EXPECT_THAT(log, ElementsAre("self1", "after1", "other1", "other2"));
  EXPECT_EQ(subject.observer_count(), 1u);
}

TEST(Subject, ObserverCanDestroyItsOwnSubscriptionDuringNext) {
  Subject<int> subject;
  std::vector<int> seen;
  std::optional<Subscription> self;
  self.emplace(subject.Subscribe([&](const int& v) {
    seen.push_back(v);
    self.reset();
  }));
  subject.Next(1);
  subject.Next(2);
  EXPECT_THAT(seen, ElementsAre(1));
  EXPECT_EQ(subject.observer_count(), 0u);
}

TEST(Subject, UnsubscribingALaterObserverDuringNextSkipsIt) {
  Subject<int> subject;
  std::vector<std::string> log;
  Subscription later;
  Subscription first = subject.Subscribe([&](const int& v) {
    log.push_back("first" + std::to_string(v));
    later.Unsubscribe();
  });
  later = subject.Subscribe(
      [&](const int& v) { log.push_back("later" + std::to_string(v)); });
  Subscription last = subject.Subscribe(
      [&](const int& v) { log.push_back("last" + std::to_string(v)); });
  subject.Next(1);
  subject.Next(2);
  EXPECT_THAT(log, ElementsAre("first1", "last1", "first2", "last2"));
}

TEST(Subject, UnsubscribingAnEarlierObserverDuringNextAffectsLaterValues) {
  Subject<int> subject;
  std::vector<std::string> log;
  Subscription earlier = subject.Subscribe(
      [&](const int& v) { log.push_back("earlier" + std::to_string(v)); });
  Subscription second = subject.Subscribe([&](const int& v) {
    log.push_back("second" + std::to_string(v));
    earlier.Unsubscribe();
  });
  subject.Next(1);
  subject.Next(2);
  EXPECT_THAT(log, ElementsAre("earlier1", "second1", "second2"));
}

TEST(Subject, ObserverSubscribedDuringNextGetsOnlyLaterValues) {
  Subject<int> subject;
  std::vector<std::string> log;
  std::vector<Subscription> added;
  Subscription spawner = subject.Subscribe([&](const int& v) {
    log.push_back("spawner" + std::to_string(v));
    if (v == 1) {
      added.push_back(subject.Subscribe(
          [&](const int& w) { log.push_back("new" + std::to_string(w)); }));
    }
  });
  Subscription tail = subject.Subscribe(
      [&](const int& v) { log.push_back("tail" + std::to_string(v)); });
  subject.Next(1);
  EXPECT_EQ(subject.observer_count(), 3u);
  subject.Next(2);
  EXPECT_THAT(log,
              ElementsAre("spawner1", "tail1", "spawner2", "tail2", "new2"));
}

TEST(Subject, ManySubscriptionsDuringNextDoNotInvalidateTheEmission) {
  // Forces the observer vector to reallocate while it is being iterated.
  Subject<int> subject;
  std::vector<Subscription> added;
  int tail_calls = 0;
  Subscription spawner = subject.Subscribe([&](const int& v) {
    if (v != 1) return;
    for (int i = 0; i < 100; ++i) {
      added.push_back(subject.Subscribe([](const int&) {}));
    }
  });
  Subscription tail = subject.Subscribe([&](const int&) { ++tail_calls; });
  subject.Next(1);
  EXPECT_EQ(tail_calls, 1);
  EXPECT_EQ(subject.observer_count(), 102u);
}

TEST(Subject, NestedNextReachesEveryObserverBeforeTheOuterOneContinues) {
  Subject<int> subject;
  std::vector<std::string> log;
  Subscription a = subject.Subscribe([&](const int& v) {
    log.push_back("a" + std::to_string(v));
    if (v == 1) subject.Next(2);
  });
  Subscription b = subject.Subscribe(
      [&](const int& v) { log.push_back("b" + std::to_string(v)); });
  subject.Next(1);
  EXPECT_THAT(log, ElementsAre("a1", "a2", "b2", "b1"));
}

TEST(Subject, SubjectDestroyedBeforeSubscription) {
  std::vector<int> seen;
  Subscription subscription;
  {
    Subject<int> subject;
    subscription = subject.Subscribe([&](const int& v) { seen.push_back(v); });
    subject.Next(1);
  }
  EXPECT_TRUE(subscription.active());
  subscription.Unsubscribe();  // Must be a harmless no-op.
  EXPECT_FALSE(subscription.active());
  EXPECT_THAT(seen, ElementsAre(1));
}

TEST(Subject, SubjectDestroyedInsideItsOwnCallback) {
  auto subject = std::make_unique<Subject<int>>();
  std::vector<std::string> log;
  Subscription killer = subject->Subscribe([&](const int& v) {
    log.push_back("killer" + std::to_string(v));
    subject.reset();
  });
  Subscription survivor = subject->Subscribe(
      [&](const int& v) { log.push_back("survivor" + std::to_string(v)); });
  subject->Next(1);
  EXPECT_EQ(subject, nullptr);
  // The emission in progress still reaches the remaining observer.
  EXPECT_THAT(log, ElementsAre("killer1", "survivor1"));
  killer.Unsubscribe();
  survivor.Unsubscribe();
}

TEST(Subject, UnsubscribeReleasesTheCallbackImmediatelyWhenIdle) {
  Subject<int> subject;
  auto token = std::make_shared<int>(0);
  Subscription s = subject.Subscribe([token](const int&) {});
  EXPECT_EQ(token.use_count(), 2);
  s.Unsubscribe();
  EXPECT_EQ(token.use_count(), 1);
}

TEST(Subject, UnsubscribeDuringNextReleasesTheCallbackAfterTheEmission) {
  Subject<int> subject;
  auto token = std::make_shared<int>(0);
  long count_inside = 0;
  Subscription self;
  self = subject.Subscribe([&, token](const int&) {
    self.Unsubscribe();
    count_inside = token.use_count();
  });
  subject.Next(1);
  EXPECT_EQ(count_inside, 2) << "released while still running";
  EXPECT_EQ(token.use_count(), 1) << "not released after the emission";
}

TEST(Subject, CompactionKeepsTheOrderOfTheRemainingObservers) {
  Subject<int> subject;
  std::vector<int> log;
  std::vector<Subscription> subscriptions;
  subscriptions.reserve(11);
  for (int i = 0; i < 10; ++i) {
    subscriptions.push_back(
        subject.Subscribe([&log, i](const int&) { log.push_back(i); }));
  }
  for (int i = 0; i < 10; i += 2) subscriptions[i].Unsubscribe();
  EXPECT_EQ(subject.observer_count(), 5u);
  subject.Next(0);
  EXPECT_THAT(log, ElementsAre(1, 3, 5, 7, 9));
  log.clear();
  subscriptions[3].Unsubscribe();
  subscriptions.push_back(
      subject.Subscribe([&log](const int&) { log.push_back(10); }));
  subject.Next(0);
  EXPECT_THAT(log, ElementsAre(1, 5, 7, 9, 10));
}

// A capture whose destructor runs arbitrary code when the callback is
// released, here unsubscribing another observer of the same subject.
struct UnsubscribeOnDestroy {
  Subscription* target;
  explicit UnsubscribeOnDestroy(Subscription* t) : target(t) {}
  UnsubscribeOnDestroy(const UnsubscribeOnDestroy&) = default;
  ~UnsubscribeOnDestroy() {
    if (target != nullptr) target->Unsubscribe();
  }
};

TEST(Subject, ReleasingACallbackMayReenterTheSubject) {
  Subject<int> subject;
  std::vector<int> seen;
  Subscription other =
      subject.Subscribe([&](const int& v) { seen.push_back(v); });
  auto guard = std::make_shared<UnsubscribeOnDestroy>(&other);
  Subscription owner = subject.Subscribe([guard](const int&) {});
  guard.reset();  // The callback now holds the only reference.
  subject.Next(1);
  owner.Unsubscribe();  // Releasing the callback unsubscribes `other`.
  EXPECT_EQ(subject.observer_count(), 0u);
  subject.Next(2);
  EXPECT_THAT(seen, ElementsAre(1));
}

TEST(Subject, ReleasingACallbackAfterAnEmissionMayReenterTheSubject) {
  Subject<int> subject;
  std::vector<int> seen;
  Subscription other;
  Subscription owner;
  auto guard = std::make_shared<UnsubscribeOnDestroy>(&other);
  owner =
      subject.Subscribe([&owner, guard](const int&) { owner.Unsubscribe(); });
  guard.reset();
  other = subject.Subscribe([&](const int& v) { seen.push_back(v); });
  subject.Next(1);  // Compaction after the emission releases `owner`'s
                    // callback, which unsubscribes `other`.
  EXPECT_THAT(seen, ElementsAre(1));
  EXPECT_EQ(subject.observer_count(), 0u);
  subject.Next(2);
  EXPECT_THAT(seen, ElementsAre(1));
}

TEST(Subject, MovedSubjectKeepsItsObservers) {
  Subject<int> original;
  std::vector<int> seen;
  Subscription s = original.Subscribe([&](const int& v) { seen.push_back(v); });
  Subject<int> moved(std::move(original));
  EXPECT_EQ(moved.observer_count(), 1u);
  moved.Next(1);
  // The moved-from subject is empty but usable.
  EXPECT_EQ(original.observer_count(), 0u);  // NOLINT(bugprone-use-after-move)
  original.Next(99);
  Subscription fresh =
      original.Subscribe([&](const int& v) { seen.push_back(v); });
  original.Next(2);
  s.Unsubscribe();
  EXPECT_EQ(moved.observer_count(), 0u);
  moved.Next(3);
  EXPECT_THAT(seen, ElementsAre(1, 2));
}

TEST(Subject, MovedSubscriptionStillControlsTheRegistration) {
  Subject<int> subject;
  std::vector<int> seen;
  std::vector<Subscription> owned;
  owned.push_back(subject.Subscribe([&](const int& v) { seen.push_back(v); }));
  owned.reserve(100);  // Moves the handle.
  subject.Next(1);
  owned.back().Unsubscribe();
  subject.Next(2);
  EXPECT_THAT(seen, ElementsAre(1));
  EXPECT_EQ(subject.observer_count(), 0u);
}

TEST(Subject, WorksWithNonCopyableValues) {
  Subject<std::unique_ptr<int>> subject;
  int seen = 0;
  Subscription s =
      subject.Subscribe([&](const std::unique_ptr<int>& v) { seen = *v; });
  subject.Next(std::make_unique<int>(7));
  EXPECT_EQ(seen, 7);
}

// ---------------------------------------------------------------------------
// BehaviorSubject

TEST(BehaviorSubject, HoldsTheInitialValue) {
  BehaviorSubject<std::string> subject("init");
  EXPECT_EQ(subject.value(), "init");
  EXPECT_EQ(subject.observer_count(), 0u);
}

TEST(BehaviorSubject, NextUpdatesTheValueWithoutObservers) {
  BehaviorSubject<int> subject(0);
  subject.Next(5);
  EXPECT_EQ(subject.value(), 5);
}

TEST(BehaviorSubject, NextAssigningReusesUnsharedStorageAndCopiesShared) {
  BehaviorSubject<std::vector<int>> subject(std::vector<int>{1, 2});
  int assigned = 0;
  auto assign = [&](std::vector<int>& to, const std::vector<int>& from) {
    ++assigned;
    to.back() = from.back();
  };
  std::vector<std::vector<int>> seen;
  std::vector<int> during;
  Subscription s = subject.Subscribe([&](const std::vector<int>& v) {
    seen.push_back(v);
    // Inside an emission the value is held: a nested call copies.
    if (v.back() == 3) subject.NextAssigning({1, 4}, assign);
  });
  subject.NextAssigning({1, 3}, assign);
  EXPECT_EQ(assigned, 1);
  EXPECT_THAT(seen, ElementsAre(ElementsAre(1, 2), ElementsAre(1, 3),
                                ElementsAre(1, 4)));
  EXPECT_THAT(subject.value(), ElementsAre(1, 4));
}

TEST(BehaviorSubject, ReplaysTheCurrentValueInsideSubscribe) {
  BehaviorSubject<int> subject(1);
  subject.Next(2);
  std::vector<int> seen;
  Subscription s = subject.Subscribe([&](const int& v) { seen.push_back(v); });
  EXPECT_THAT(seen, ElementsAre(2)) << "replay must be synchronous";
  subject.Next(3);
  subject.Next(4);
  EXPECT_THAT(seen, ElementsAre(2, 3, 4));
}

TEST(BehaviorSubject, EachSubscriberGetsTheValueCurrentWhenItSubscribes) {
  BehaviorSubject<int> subject(1);
  std::vector<std::string> log;
  Subscription a = subject.Subscribe(
      [&](const int& v) { log.push_back("a" + std::to_string(v)); });
  subject.Next(2);
  Subscription b = subject.Subscribe(
      [&](const int& v) { log.push_back("b" + std::to_string(v)); });
  subject.Next(3);
  EXPECT_THAT(log, ElementsAre("a1", "a2", "b2", "a3", "b3"));
  EXPECT_EQ(subject.observer_count(), 2u);
}

TEST(BehaviorSubject, UnsubscribedObserverGetsNoMoreValues) {
  BehaviorSubject<int> subject(1);
  std::vector<int> seen;
  Subscription s = subject.Subscribe([&](const int& v) { seen.push_back(v); });
  s.Unsubscribe();
  s.Unsubscribe();
  subject.Next(2);
  EXPECT_THAT(seen, ElementsAre(1));
  EXPECT_EQ(subject.observer_count(), 0u);
}

TEST(BehaviorSubject, ObserverCanUnsubscribeItselfDuringNext) {
  BehaviorSubject<int> subject(0);
  std::vector<std::string> log;
  Subscription self;
  self = subject.Subscribe([&](const int& v) {
    log.push_back("self" + std::to_string(v));
    if (v == 1) self.Unsubscribe();
  });
  Subscription other = subject.Subscribe(
      [&](const int& v) { log.push_back("other" + std::to_string(v)); });
  subject.Next(1);
  subject.Next(2);
  EXPECT_THAT(log, ElementsAre("self0", "other0", "self1", "other1", "other2"));
}

TEST(BehaviorSubject, ObserverSubscribedDuringNextGetsReplayThenLaterValues) {
  BehaviorSubject<int> subject(0);
  std::vector<std::string> log;
  std::vector<Subscription> added;
  Subscription spawner = subject.Subscribe([&](const int& v) {
    if (v == 1) {
      added.push_back(subject.Subscribe(
          [&](const int& w) { log.push_back("new" + std::to_string(w)); }));
    }
  });
  Subscription tail = subject.Subscribe(
      [&](const int& v) { log.push_back("tail" + std::to_string(v)); });
  subject.Next(1);
  subject.Next(2);
  // The new observer gets the current value by replay, not by the emission.
  EXPECT_THAT(log, ElementsAre("tail0", "new1", "tail1", "tail2", "new2"));
}

TEST(BehaviorSubject, NextInsideTheReplayReachesTheNewObserver) {
  BehaviorSubject<int> subject(1);
  std::vector<int> seen;
  Subscription s = subject.Subscribe([&](const int& v) {
    seen.push_back(v);
    if (v == 1) subject.Next(2);
  });
  EXPECT_THAT(seen, ElementsAre(1, 2));
  EXPECT_EQ(subject.value(), 2);
}

TEST(BehaviorSubject, NestedNextDoesNotChangeTheValueOfTheOuterEmission) {
  BehaviorSubject<std::string> subject("start");
  std::vector<std::string> log;
  Subscription a = subject.Subscribe([&](const std::string& v) {
    log.push_back("a:" + v);
    if (v == "outer") subject.Next("inner");
  });
  Subscription b =
      subject.Subscribe([&](const std::string& v) { log.push_back("b:" + v); });
  log.clear();
  subject.Next("outer");
  EXPECT_THAT(log, ElementsAre("a:outer", "a:inner", "b:inner", "b:outer"));
  EXPECT_EQ(subject.value(), "inner");
}

TEST(BehaviorSubject, SubjectDestroyedBeforeSubscription) {
  std::vector<int> seen;
  Subscription subscription;
  {
    BehaviorSubject<int> subject(1);
    subscription = subject.Subscribe([&](const int& v) { seen.push_back(v); });
    subject.Next(2);
  }
  subscription.Unsubscribe();
  subscription.Unsubscribe();
  EXPECT_THAT(seen, ElementsAre(1, 2));
}

TEST(BehaviorSubject, SubjectDestroyedInsideTheReplay) {
  auto subject = std::make_unique<BehaviorSubject<std::string>>("v");
  std::vector<std::string> seen;
  Subscription s = subject->Subscribe([&](const std::string& v) {
    seen.push_back(v);
    subject.reset();  // The replayed value must stay alive for this call.
    seen.push_back(v);
  });
  EXPECT_THAT(seen, ElementsAre("v", "v"));
  s.Unsubscribe();
}

TEST(BehaviorSubject, MovedSubjectKeepsValueAndObservers) {
  BehaviorSubject<int> original(1);
  std::vector<int> seen;
  Subscription s = original.Subscribe([&](const int& v) { seen.push_back(v); });
  BehaviorSubject<int> moved(std::move(original));
  EXPECT_EQ(moved.value(), 1);
  EXPECT_EQ(moved.observer_count(), 1u);
  moved.Next(2);
  s.Unsubscribe();
  moved.Next(3);
  EXPECT_THAT(seen, ElementsAre(1, 2));
  EXPECT_EQ(moved.value(), 3);
}

}  // namespace
}  // namespace auxsync::rx
