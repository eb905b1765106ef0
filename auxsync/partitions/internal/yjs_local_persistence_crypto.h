// The encryption of the local Yjs persistence: a key derived from a
// passphrase (Argon2id), XChaCha20-Poly1305 for every stored value and a
// keyed BLAKE2b for lookup keys. Private to auxsync/partitions.

#ifndef AUXSYNC_PARTITIONS_INTERNAL_YJS_LOCAL_PERSISTENCE_CRYPTO_H_
#define AUXSYNC_PARTITIONS_INTERNAL_YJS_LOCAL_PERSISTENCE_CRYPTO_H_

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace auxsync::partitions::persistence_internal {

// Argon2id cost parameters, stored in the file so that a file made with
// other parameters still opens.
struct KdfParams {
  uint64_t ops_limit = 0;
  uint64_t mem_limit = 0;
};

// libsodium's "interactive" Argon2id costs (64 MiB, 2 passes).
KdfParams InteractiveKdfParams();
// The smallest costs libsodium accepts (for tests only).
KdfParams MinimalKdfParams();

// Bytes of the salt stored in the file.
size_t SaltSize();
// `n` random bytes (libsodium's CSPRNG).
std::vector<uint8_t> RandomBytes(size_t n);

// The keys of one file. Zeroed when destroyed. Move-only.
class Keys {
 public:
  // Derives the keys from `passphrase` and `salt`. Errors: libsodium could
  // not initialise or ran out of memory; parameters out of range.
  static absl::StatusOr<Keys> Derive(std::string_view passphrase,
                                     std::span<const uint8_t> salt,
                                     KdfParams params);
  Keys(Keys&& other) noexcept;
  Keys& operator=(Keys&& other) noexcept;
  Keys(const Keys&) = delete;
  Keys& operator=(const Keys&) = delete;
  ~Keys();

  // nonce || ciphertext+tag of `plain`, authenticated together with `ad`.
  std::vector<uint8_t> Seal(std::span<const uint8_t> plain,
                            std::string_view ad) const;
  // The plaintext; an error when the bytes were not sealed with these keys
  // and this `ad` (wrong key, tampering, truncation).
  absl::StatusOr<std::vector<uint8_t>> Open(std::span<const uint8_t> sealed,
                                            std::string_view ad) const;
  // A keyed hash of `data` (32 bytes): stable lookup keys that do not
  // reveal the key names.
  std::vector<uint8_t> Hash(std::span<const uint8_t> data) const;

 private:
  Keys() = default;
  std::array<uint8_t, 32> aead_{};
  std::array<uint8_t, 32> hash_{};
};

}  // namespace auxsync::partitions::persistence_internal

#endif  // AUXSYNC_PARTITIONS_INTERNAL_YJS_LOCAL_PERSISTENCE_CRYPTO_H_
