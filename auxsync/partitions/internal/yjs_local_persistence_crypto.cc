#include "auxsync/partitions/internal/yjs_local_persistence_crypto.h"

#include <sodium.h>

#include <utility>

#include "absl/status/status.h"

namespace auxsync::partitions::persistence_internal {

namespace {

constexpr size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;

// sodium_init is idempotent and thread-safe; it only fails when the system
// has no usable randomness source.
bool EnsureSodium() { return sodium_init() >= 0; }

}  // namespace

KdfParams InteractiveKdfParams() {
  return {crypto_pwhash_OPSLIMIT_INTERACTIVE,
          crypto_pwhash_MEMLIMIT_INTERACTIVE};
}

KdfParams MinimalKdfParams() {
  return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN};
}

size_t SaltSize() { return crypto_pwhash_SALTBYTES; }

std::vector<uint8_t> RandomBytes(size_t n) {
  EnsureSodium();
  std::vector<uint8_t> out(n);
  randombytes_buf(out.data(), out.size());
  return out;
}

absl::StatusOr<Keys> Keys::Derive(std::string_view passphrase,
                                  std::span<const uint8_t> salt,
                                  KdfParams params) {
  if (!EnsureSodium()) return absl::InternalError("libsodium init failed");
  if (salt.size() != crypto_pwhash_SALTBYTES) {
    return absl::DataLossError("the stored key salt has the wrong size");
  }
  if (params.ops_limit < crypto_pwhash_OPSLIMIT_MIN ||
      params.ops_limit > crypto_pwhash_OPSLIMIT_MAX ||
      params.mem_limit < crypto_pwhash_MEMLIMIT_MIN ||
      params.mem_limit > crypto_pwhash_MEMLIMIT_MAX ||
      params.mem_limit > (uint64_t{1} << 32)) {
    return absl::DataLossError("the stored key derivation costs are invalid");
  }
  std::array<uint8_t, crypto_kdf_KEYBYTES> master{};
  if (crypto_pwhash(master.data(), master.size(), passphrase.data(),
                    passphrase.size(), salt.data(), params.ops_limit,
                    static_cast<size_t>(params.mem_limit),
                    crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return absl::ResourceExhaustedError(
        "deriving the encryption key ran out of memory");
  }
  Keys keys;
  // Independent subkeys for encryption and for hashing lookup keys.
  crypto_kdf_derive_from_key(keys.aead_.data(), keys.aead_.size(), 1,
                             "auxsyncY", master.data());
  crypto_kdf_derive_from_key(keys.hash_.data(), keys.hash_.size(), 2,
                             "auxsyncY", master.data());
  sodium_memzero(master.data(), master.size());
  return keys;
}

Keys::Keys(Keys&& other) noexcept : aead_(other.aead_), hash_(other.hash_) {
  sodium_memzero(other.aead_.data(), other.aead_.size());
  sodium_memzero(other.hash_.data(), other.hash_.size());
}

Keys& Keys::operator=(Keys&& other) noexcept {
  if (this != &other) {
    aead_ = other.aead_;
    hash_ = other.hash_;
    sodium_memzero(other.aead_.data(), other.aead_.size());
    sodium_memzero(other.hash_.data(), other.hash_.size());
  }
  return *this;
}

Keys::~Keys() {
  sodium_memzero(aead_.data(), aead_.size());
  sodium_memzero(hash_.data(), hash_.size());
}

std::vector<uint8_t> Keys::Seal(std::span<const uint8_t> plain,
                                std::string_view ad) const {
  std::vector<uint8_t> out(kNonce + plain.size() + kTag);
  randombytes_buf(out.data(), kNonce);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      out.data() + kNonce, &written, plain.data(), plain.size(),
      reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), nullptr,
      out.data(), aead_.data());
  out.resize(kNonce + written);
  return out;
}

absl::StatusOr<std::vector<uint8_t>> Keys::Open(std::span<const uint8_t> sealed,
                                                std::string_view ad) const {
  if (sealed.size() < kNonce + kTag) {
    return absl::DataLossError("an encrypted value is truncated");
  }
  std::vector<uint8_t> out(sealed.size() - kNonce - kTag);
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          out.data(), &written, nullptr, sealed.data() + kNonce,
          sealed.size() - kNonce,
          reinterpret_cast<const unsigned char*>(ad.data()), ad.size(),
          sealed.data(), aead_.data()) != 0) {
    return absl::PermissionDeniedError(
        "a stored value does not decrypt with this key (wrong key or "
        "tampered file)");
  }
  out.resize(written);
  return out;
}

std::vector<uint8_t> Keys::Hash(std::span<const uint8_t> data) const {
  std::vector<uint8_t> out(32);
  crypto_generichash(out.data(), out.size(), data.data(), data.size(),
                     hash_.data(), hash_.size());
  return out;
}

}  // namespace auxsync::partitions::persistence_internal
