#include "http/handlers/auth_handlers.h"

#include <array>
#include <cctype>

#include "common/form.h"
#include "http/client_cert.h"
#include "http/errors.h"
#include "oauth/discovery.h"

namespace tollgate::http::handlers {
namespace {

// True for `application/x-www-form-urlencoded`, any case, with optional parameters.
bool IsFormContentType(std::string_view value) {
  constexpr std::string_view kForm = "application/x-www-form-urlencoded";
  size_t end = value.find(';');
  std::string_view media = value.substr(0, end);
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
  while (!media.empty() && (media.front() == ' ' || media.front() == '\t')) media.remove_prefix(1);
  if (media.size() != kForm.size()) return false;
  for (size_t i = 0; i < media.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(media[i])) != kForm[i]) return false;
  }
  return true;
}

// A request whose form was refused, as the audit sees it: who sent it, under which correlation ID.
oauth::TokenRequest Unread(const Request& request) {
  oauth::TokenRequest unread;
  unread.remote_address = std::string(request.remote_address);
  unread.correlation_id = std::string(request.correlation_id);
  return unread;
}

// Writes `result`, an oauth step's answer to `request`, with `answer(value, request, env)`, or its
// error. While the step is Pending, the Response carries the wait and a resume that runs
// `again(request, env)`, the step from client authentication on, on a copy of the request as
// parsed (decision 0003).
template <class Value, class Again, class Write>
Response AnswerOrResume(Result<Value, oauth::ErrorOrPending> result, oauth::TokenRequest& request,
                        const config::EnvironmentSnapshot& env, const std::string& correlation_id,
                        const Again& again, const Write& answer) {
  if (result) return answer(std::move(result).value(), request, env);
  Response r = WriteErrorOrPending(std::move(result).error(), correlation_id, env.issuer);
  if (r.pending) {
    r.resume = [request, correlation_id, again, answer](const config::EnvironmentSnapshot& now) {
      oauth::TokenRequest parsed = request;
      return AnswerOrResume(again(parsed, now), parsed, now, correlation_id, again, answer);
    };
  }
  return r;
}

}  // namespace

Result<oauth::TokenRequest, oauth::OAuthError> ParseTokenRequest(
    const Request& request, std::span<const oauth::FormParam> params) {
  if (!request.content_type || !IsFormContentType(*request.content_type)) {
    return Fail(oauth::InvalidRequest("Content-Type must be application/x-www-form-urlencoded"));
  }
  auto form = ParseForm(request.body);
  if (!form) {
    if (form.error() == FormError::kTooManyPairs) {
      return Fail(oauth::InvalidRequest("The request body has too many parameters"));
    }
    return Fail(oauth::InvalidRequest(
        "The request body is not valid application/x-www-form-urlencoded UTF-8"));
  }
  oauth::TokenRequest out;
  out.remote_address = std::string(request.remote_address);
  out.correlation_id = std::string(request.correlation_id);
  if (request.authorization) out.authorization = std::string(*request.authorization);
  for (std::string_view proof : request.dpop) out.dpop.emplace_back(proof);
  auto certificates = ClientCertificates(request);
  if (!certificates) return Fail(oauth::InvalidRequest(std::move(certificates).error()));
  out.client_certificates = std::move(*certificates);

  // RFC 6749 §3.2: no parameter twice, except those declared repeatable (RFC 8707 `resource`).
  std::array<std::string_view, 8> repeatable;  // an endpoint declares one or two
  size_t repeatables = 0;
  for (const oauth::FormParam& p : params) {
    if (p.repeatable && repeatables < repeatable.size()) repeatable[repeatables++] = p.name;
  }
  if (HasDuplicateName(*form, std::span(repeatable.data(), repeatables))) {
    return Fail(oauth::InvalidRequest("A parameter was sent more than once"));
  }
  for (auto& [name, value] : *form) {
    for (const oauth::FormParam& p : params) {
      if (name != p.name) continue;
      // SPEC §2.1: empty values count as absent, unless declared otherwise (client_secret).
      if (value.empty() && !p.keep_empty) break;
      if (p.max_length != 0 && value.size() > p.max_length) {
        return Fail(oauth::InvalidRequest("The " + std::string(p.name) + " parameter is too long"));
      }
      if (p.member != nullptr) {
        out.*p.member = std::move(value);
      } else {
        out.Add(p.name, std::move(value));
      }
      break;
    }
  }
  return out;
}

Response Token(const Request& request, const config::EnvironmentSnapshot& env,
               const oauth::TokenEndpoint& endpoint) {
  auto parsed = ParseTokenRequest(request, oauth::TokenEndpoint::Params());
  if (!parsed) {
    endpoint.Refused(parsed.error(), Unread(request), env);
    return WriteOAuthError(parsed.error(), request.correlation_id, env.issuer);
  }
  auto again = [&endpoint](const oauth::TokenRequest& req, const config::EnvironmentSnapshot& in) {
    return endpoint.Resume(req, in);
  };
  auto answer = [](const oauth::TokenResponse& token, oauth::TokenRequest&,
                   const config::EnvironmentSnapshot&) {
    Response r;
    r.body.reserve(token.access_token.size() + 96);
    r.body += R"({"access_token":")";
    r.body += token.access_token;  // base64url and dots only
    r.body += token.dpop ? R"(","token_type":"DPoP","expires_in":)"
                         : R"(","token_type":"Bearer","expires_in":)";
    AppendDecimal(r.body, token.expires_in);
    if (!token.scope.empty()) {
      r.body += ",\"scope\":";
      AppendJsonString(r.body, token.scope);
    }
    if (!token.issued_token_type.empty()) {
      r.body += ",\"issued_token_type\":";
      AppendJsonString(r.body, token.issued_token_type);
    }
    r.body += "}";
    AddNoStore(r);
    if (!token.dpop_nonce.empty()) r.headers.emplace_back("DPoP-Nonce", token.dpop_nonce);
    return r;
  };
  return AnswerOrResume(endpoint.Handle(*parsed, env), *parsed, env, request.correlation_id, again,
                        answer);
}

Response Introspect(const Request& request, const config::EnvironmentSnapshot& env,
                    const oauth::Introspection& introspection) {
  auto parsed = ParseTokenRequest(request, oauth::Introspection::Params());
  if (!parsed) {
    introspection.Refused(parsed.error(), Unread(request), env);
    return WriteOAuthError(parsed.error(), request.correlation_id, env.issuer);
  }
  auto again = [&introspection](const oauth::TokenRequest& req,
                                const config::EnvironmentSnapshot& in) {
    return introspection.Handle(req, in);
  };
  auto answer = [](std::string body, oauth::TokenRequest&, const config::EnvironmentSnapshot&) {
    Response r;
    r.body = std::move(body);
    AddNoStore(r);
    return r;
  };
  return AnswerOrResume(again(*parsed, env), *parsed, env, request.correlation_id, again, answer);
}

Response Revoke(const Request& request, const config::EnvironmentSnapshot& env,
                const oauth::Revocation& revocation) {
  auto parsed = ParseTokenRequest(request, oauth::Revocation::Params());
  if (!parsed) {
    revocation.Refused(parsed.error(), Unread(request), env);
    return WriteOAuthError(parsed.error(), request.correlation_id, env.issuer);
  }
  // Client authentication first, without blocking: an unauthenticated caller never reaches
  // the blocking pool, and one whose keys are being fetched waits without holding a thread.
  auto again = [&revocation](const oauth::TokenRequest& req,
                             const config::EnvironmentSnapshot& in) {
    return revocation.Authenticate(req, in);
  };
  auto answer = [&revocation, correlation_id = request.correlation_id](
                    const config::AppEntry* app, oauth::TokenRequest& req,
                    const config::EnvironmentSnapshot& in) {
    Response later;
    later.then_blocking = [&revocation, &in, app, req = std::move(req), correlation_id] {
      auto revoked = revocation.Revoke(req, in, *app);
      if (!revoked) return WriteOAuthError(revoked.error(), correlation_id, in.issuer);
      Response r;  // RFC 7009 §2.2: 200 with an empty body
      r.content_type.clear();
      AddNoStore(r);
      return r;
    };
    return later;
  };
  return AnswerOrResume(again(*parsed, env), *parsed, env, request.correlation_id, again, answer);
}

Response Jwks(const config::EnvironmentSnapshot& env, TimePoint now) {
  Response r;
  r.body = oauth::JwksJson(env, now);
  r.headers.emplace_back("Cache-Control", "public, max-age=300");
  // Public documents, read without credentials: any page may read them (docs/cors.md).
  r.headers.emplace_back("Access-Control-Allow-Origin", "*");
  return r;
}

Response Discovery(const config::EnvironmentSnapshot& env) {
  Response r;
  r.body = oauth::DiscoveryJson(env);
  r.headers.emplace_back("Cache-Control", "public, max-age=300");
  r.headers.emplace_back("Access-Control-Allow-Origin", "*");
  return r;
}

}  // namespace tollgate::http::handlers
