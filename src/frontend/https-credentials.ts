/**
 * The PEM certificate and key of the HTTPS listener, read and checked once at start, so a
 * wrong file stops the frontend with a reason instead of failing every TLS handshake later.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { HttpOptions } from '../config/types.js';
import { CsError, reasonOf } from '../errors/registry.js';

export interface HttpsCredentials {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** The certificate's subject and end of validity, for the log. */
  readonly subject: string;
  readonly validTo: Date;
}

const TO_PEM =
  'a keystore or DER file must be converted to PEM first, e.g. `openssl pkcs12 -in keystore.p12 -nokeys -out cert.pem` ' +
  'and `openssl pkcs12 -in keystore.p12 -nocerts -nodes -out key.pem` (a JKS keystore: ' +
  '`keytool -importkeystore -srckeystore keystore.jks -destkeystore keystore.p12 -deststoretype PKCS12` before)';

function invalid(message: string, cause?: unknown): CsError {
  return new CsError('CS_ERR_HTTPS_CERT_INVALID', message, cause === undefined ? undefined : { cause });
}

function readPem(key: 'httpsCertPath' | 'httpsKeyPath', path: string | undefined): Buffer {
  if (path === undefined) throw invalid(`http.${key} is not set: HTTPS needs a PEM certificate and key`);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw invalid(`http.${key}: cannot read ${path}: ${reasonOf(error)}`, error);
  }
  if (!bytes.includes('-----BEGIN ')) {
    throw invalid(`http.${key}: ${path} is not a PEM file (no "-----BEGIN" line); ${TO_PEM}`);
  }
  return bytes;
}

/** Reads and checks the files named by httpsCertPath and httpsKeyPath; CS_ERR_HTTPS_CERT_INVALID says what is wrong. */
export function loadHttpsCredentials(
  http: Pick<HttpOptions, 'httpsCertPath' | 'httpsKeyPath'>,
): HttpsCredentials {
  const cert = readPem('httpsCertPath', http.httpsCertPath);
  const key = readPem('httpsKeyPath', http.httpsKeyPath);
  if (!cert.includes('-----BEGIN CERTIFICATE-----')) {
    throw invalid(
      `http.httpsCertPath: ${http.httpsCertPath} holds no "BEGIN CERTIFICATE" block (is it the key?)`,
    );
  }
  if (key.includes('ENCRYPTED')) {
    throw invalid(
      `http.httpsKeyPath: ${http.httpsKeyPath} is encrypted, and no passphrase can be given: ` +
        'write it decrypted with `openssl pkey -in key.pem -out key-plain.pem` (then chmod 600)',
    );
  }
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key.toString('latin1'))) {
    throw invalid(
      `http.httpsKeyPath: ${http.httpsKeyPath} holds no "PRIVATE KEY" block (is it the certificate?)`,
    );
  }
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
    // Throws when the key is not valid PEM or does not belong to the certificate.
    createSecureContext({ cert, key });
  } catch (error) {
    throw invalid(
      `http.httpsCertPath/httpsKeyPath: ${http.httpsCertPath} and ${http.httpsKeyPath} are not a usable PEM certificate and matching key: ${reasonOf(error)}`,
      error,
    );
  }
  return {
    cert,
    key,
    subject: certificate.subject.replace(/\n/g, ', '),
    validTo: new Date(certificate.validTo),
  };
}
