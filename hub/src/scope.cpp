// scope.cpp — rt::scope (rt/hub/scope.hpp): copy-on-write scope data and the merge into
// events (sentry-go's Scope).
//
// Owns: the scope's snapshot pointer, guarded by mu_.
// Invariant: data_ is replaced or unshared under mu_ only; readers copy the pointer under
// mu_ and then read the snapshot without the lock (it is immutable while they share it).
// Every change of data_ bumps the holding hub's stamp (changed()) before it is made, so a
// hub that finds its stamp unchanged knows its cached spawn snapshot is still current.
#include <stdexcept>

#include "scope_data.hpp"

namespace rt {

using detail::unshare;

scope::scope(data_ptr data) : data_(std::move(data)) {}

scope::scope(const scope& other) : data_(other.snapshot()) {}

scope& scope::operator=(const scope& other) {
  if (this != &other) {
    data_ptr d = other.snapshot();
    std::lock_guard lk(mu_);
    changed();
    data_.swap(d);  // `d` now holds the old snapshot, released after the lock
  }
  return *this;
}

scope::~scope() = default;

scope::data_ptr scope::snapshot() const {
  std::lock_guard lk(mu_);
  return data_;
}

bool scope::holds(const detail::scope_data* data) const {
  std::lock_guard lk(mu_);
  return data_.get() == data;
}

void scope::changed() noexcept {
  if (stamp_ != nullptr) stamp_->fetch_add(1, std::memory_order_release);
}

detail::scope_data& scope::writable() {
  changed();
  return unshare(data_);
}

void scope::set_tag(std::string key, std::string value) {
  std::lock_guard lk(mu_);
  unshare(writable().tags)[std::move(key)] = std::move(value);
}

void scope::set_tags(const std::map<std::string, std::string>& tags) {
  std::lock_guard lk(mu_);
  auto& mine = unshare(writable().tags);
  for (const auto& [k, v] : tags) mine[k] = v;
}

void scope::remove_tag(const std::string& key) {
  std::lock_guard lk(mu_);
  if (!data_ || !data_->tags || !data_->tags->contains(key)) return;
  unshare(writable().tags).erase(key);
}

void scope::set_extra(std::string key, json value) {
  std::lock_guard lk(mu_);
  unshare(writable().extra)[std::move(key)] = std::move(value);
}

void scope::set_extras(const std::map<std::string, json>& extras) {
  std::lock_guard lk(mu_);
  auto& mine = unshare(writable().extra);
  for (const auto& [k, v] : extras) mine[k] = v;
}

void scope::remove_extra(const std::string& key) {
  std::lock_guard lk(mu_);
  if (!data_ || !data_->extra || !data_->extra->contains(key)) return;
  unshare(writable().extra).erase(key);
}

namespace {

void check_context(const std::string& key, const json& context) {
  if (!context.is_object()) {
    throw std::invalid_argument("rt::scope::set_context: context \"" + key +
                                "\" must be a JSON object, not " + context.type_name());
  }
}

}  // namespace

void scope::set_context(std::string key, json context) {
  check_context(key, context);
  std::lock_guard lk(mu_);
  unshare(writable().contexts)[std::move(key)] = std::move(context);
}

void scope::set_contexts(const std::map<std::string, json>& contexts) {
  for (const auto& [k, v] : contexts) check_context(k, v);
  std::lock_guard lk(mu_);
  auto& mine = unshare(writable().contexts);
  for (const auto& [k, v] : contexts) mine[k] = v;
}

void scope::remove_context(const std::string& key) {
  std::lock_guard lk(mu_);
  if (!data_ || !data_->contexts || !data_->contexts->contains(key)) return;
  unshare(writable().contexts).erase(key);
}

void scope::set_user(rt::user user) {
  auto u = std::make_shared<const rt::user>(std::move(user));
  std::lock_guard lk(mu_);
  writable().user = std::move(u);
}

void scope::set_level(std::optional<rt::level> level) {
  std::lock_guard lk(mu_);
  writable().level = level;
}

void scope::set_fingerprint(std::vector<std::string> fingerprint) {
  auto f = std::make_shared<const std::vector<std::string>>(std::move(fingerprint));
  std::lock_guard lk(mu_);
  writable().fingerprint = std::move(f);
}

void scope::set_transaction(std::string name) {
  std::lock_guard lk(mu_);
  writable().transaction = std::move(name);
}

void scope::add_breadcrumb(breadcrumb b, int limit) {
  if (limit <= 0) return;
  if (b.timestamp == timestamp{}) b.timestamp = std::chrono::system_clock::now();
  auto crumb = std::make_shared<const breadcrumb>(std::move(b));
  std::lock_guard lk(mu_);
  auto& crumbs = unshare(writable().breadcrumbs);
  crumbs.push_back(std::move(crumb));
  if (crumbs.size() > static_cast<std::size_t>(limit)) {  // keep the newest `limit`
    crumbs.erase(crumbs.begin(), crumbs.end() - limit);
  }
}

void scope::clear_breadcrumbs() {
  std::lock_guard lk(mu_);
  if (data_ && data_->breadcrumbs) writable().breadcrumbs.reset();
}

void scope::add_event_processor(event_processor processor) {
  std::lock_guard lk(mu_);
  unshare(writable().processors).push_back(std::move(processor));
}

void scope::clear() {
  data_ptr old;
  std::lock_guard lk(mu_);
  changed();
  old.swap(data_);  // released after the lock: a processor's destructor may touch scopes
}

std::map<std::string, std::string> scope::tags() const {
  data_ptr d = snapshot();
  return d && d->tags ? *d->tags : std::map<std::string, std::string>{};
}

std::map<std::string, json> scope::extras() const {
  data_ptr d = snapshot();
  return d && d->extra ? *d->extra : std::map<std::string, json>{};
}

std::map<std::string, json> scope::contexts() const {
  data_ptr d = snapshot();
  return d && d->contexts ? *d->contexts : std::map<std::string, json>{};
}

rt::user scope::user() const {
  data_ptr d = snapshot();
  return d && d->user ? *d->user : rt::user{};
}

std::vector<std::string> scope::fingerprint() const {
  data_ptr d = snapshot();
  return d && d->fingerprint ? *d->fingerprint : std::vector<std::string>{};
}

std::optional<rt::level> scope::level() const {
  data_ptr d = snapshot();
  return d ? d->level : std::nullopt;
}

std::string scope::transaction() const {
  data_ptr d = snapshot();
  return d ? d->transaction : std::string{};
}

std::vector<breadcrumb> scope::breadcrumbs() const {
  data_ptr d = snapshot();
  std::vector<breadcrumb> out;
  if (d && d->breadcrumbs) {
    out.reserve(d->breadcrumbs->size());
    for (const auto& b : *d->breadcrumbs) out.push_back(*b);
  }
  return out;
}

std::size_t scope::event_processor_count() const {
  data_ptr d = snapshot();
  return d && d->processors ? d->processors->size() : 0;
}

std::optional<event> scope::apply_to_event(event ev, const event_hint& hint) const {
  if (!apply_to(ev, hint)) return std::nullopt;
  return ev;
}

bool scope::apply_to(event& ev, const event_hint& hint) const {
  const data_ptr d = snapshot();  // immutable while we hold it: no lock needed below
  if (!d) return true;
  if (d->breadcrumbs) {
    ev.breadcrumbs.reserve(ev.breadcrumbs.size() + d->breadcrumbs->size());
    for (const auto& b : *d->breadcrumbs) ev.breadcrumbs.push_back(*b);
  }
  if (d->tags) {
    for (const auto& [k, v] : *d->tags) ev.tags.insert_or_assign(k, v);  // scope wins
  }
  if (d->contexts) {
    for (const auto& [k, v] : *d->contexts) ev.contexts.try_emplace(k, v);  // event wins
  }
  if (d->extra) {
    for (const auto& [k, v] : *d->extra) ev.extra.insert_or_assign(k, v);  // scope wins
  }
  if (d->user && ev.user.empty()) ev.user = *d->user;
  if (d->fingerprint && ev.fingerprint.empty()) ev.fingerprint = *d->fingerprint;
  if (d->level) ev.level = d->level;
  if (!d->transaction.empty()) ev.transaction = d->transaction;
  if (d->processors) {
    for (const auto& p : *d->processors) {
      std::optional<event> next = p(std::move(ev), hint);
      if (!next) return false;
      ev = std::move(*next);
    }
  }
  return true;
}

}  // namespace rt
