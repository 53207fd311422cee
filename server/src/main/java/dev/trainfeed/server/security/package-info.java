/**
 * Transport security and access control of the server: TLS and mutual TLS with certificates that
 * rotate without a restart ({@link dev.trainfeed.server.security.ServerTls}), bearer tokens with
 * per-token dataset lists ({@link dev.trainfeed.server.security.TokenFile}, {@link
 * dev.trainfeed.server.security.AuthInterceptor}, {@link
 * dev.trainfeed.server.security.DatasetAccess}) and the per-connection limits of the transport
 * ({@link dev.trainfeed.server.security.SecurityOptions}).
 */
package dev.trainfeed.server.security;
