// rt/net/asio.hpp — rt::net::conn as a Boost.Asio SyncReadStream and SyncWriteStream,
// so that Boost.Beast's synchronous functions run on it and park the goroutine:
//
//   #include <rt/net/asio.hpp>
//   #include <boost/beast/http.hpp>
//   boost::beast::flat_buffer buf;
//   boost::beast::http::request<boost::beast::http::string_body> req;
//   boost::beast::error_code ec;
//   boost::beast::http::read(conn, buf, req, ec);   // parks until a request arrived
//
// Owns: the definitions of conn::read_some and conn::write_some (declared in
// rt/net.hpp, found here by argument-dependent lookup when they are instantiated), kept
// out of rt/net.hpp so that only programs that use Asio pay for its headers.
// Invariant: the error_code forms never throw rt::net's errors: end of stream is
// boost::asio::error::eof, a passed deadline boost::asio::error::timed_out, a closed conn
// boost::asio::error::bad_descriptor, any other failure its errno in
// boost::system::system_category(); the throwing forms throw boost::system::system_error
// with that code. Up to 16 buffers of a sequence are used per call.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

#include <system_error>

#include "rt/net.hpp"

namespace rt::net {
namespace detail {

constexpr std::size_t asio_max_buffers = 16;

template <class Buffer, class Sequence>
std::size_t gather(const Sequence& bufs, conn::buffer (&out)[asio_max_buffers]) {
  std::size_t n = 0;
  const auto end = boost::asio::buffer_sequence_end(bufs);
  for (auto it = boost::asio::buffer_sequence_begin(bufs); it != end && n < asio_max_buffers;
       ++it) {
    const Buffer b(*it);
    out[n++] = {const_cast<void*>(static_cast<const void*>(b.data())), b.size()};
  }
  return n;
}

// as_error_code turns the exception in flight from a conn call into Asio's error code.
inline boost::system::error_code as_error_code() {
  try {
    throw;
  } catch (const timeout_error&) {
    return boost::asio::error::timed_out;
  } catch (const closed_error&) {
    return boost::asio::error::bad_descriptor;
  } catch (const std::system_error& e) {
    return {e.code().value(), boost::system::system_category()};
  }
}

// transfer runs one readv_some / writev_some over the sequence's first buffers; a failure
// becomes ec (and 0 bytes).
template <class Buffer, class Sequence>
std::size_t transfer(conn& c, std::size_t (conn::*op)(std::span<const conn::buffer>),
                     const Sequence& bufs, boost::system::error_code& ec) {
  conn::buffer b[asio_max_buffers];
  const std::size_t n = gather<Buffer>(bufs, b);
  try {
    return (c.*op)(std::span<const conn::buffer>(b, n));
  } catch (const std::exception&) {
    ec = as_error_code();
    return 0;
  }
}

// or_throw is the throwing forms' end: ec as boost::system::system_error, else n.
inline std::size_t or_throw(std::size_t n, const boost::system::error_code& ec, const char* what) {
  if (ec) throw boost::system::system_error(ec, what);
  return n;
}

}  // namespace detail

template <class MutableBufferSequence>
std::size_t asio_read_some(conn& c, const MutableBufferSequence& bufs,
                           boost::system::error_code& ec) {
  ec = {};
  if (boost::asio::buffer_size(bufs) == 0) return 0;
  const std::size_t got =
      detail::transfer<boost::asio::mutable_buffer>(c, &conn::readv_some, bufs, ec);
  if (got == 0 && !ec) ec = boost::asio::error::eof;
  return got;
}

template <class MutableBufferSequence>
std::size_t asio_read_some(conn& c, const MutableBufferSequence& bufs) {
  boost::system::error_code ec;
  return detail::or_throw(asio_read_some(c, bufs, ec), ec, "rt::net::conn::read_some");
}

template <class ConstBufferSequence>
std::size_t asio_write_some(conn& c, const ConstBufferSequence& bufs,
                            boost::system::error_code& ec) {
  ec = {};
  return detail::transfer<boost::asio::const_buffer>(c, &conn::writev_some, bufs, ec);
}

template <class ConstBufferSequence>
std::size_t asio_write_some(conn& c, const ConstBufferSequence& bufs) {
  boost::system::error_code ec;
  return detail::or_throw(asio_write_some(c, bufs, ec), ec, "rt::net::conn::write_some");
}

}  // namespace rt::net
