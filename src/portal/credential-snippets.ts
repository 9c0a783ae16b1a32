import type { AwsCredentials } from '../cache/credential-cache.ts';

/**
 * Credentials written the ways people paste them: POSIX shell `export` lines, a
 * `~/.aws/credentials` profile, PowerShell, and the `~/.aws/config` profile that makes the
 * AWS CLI call `keywarden credential-process`. Values are quoted for their language even
 * though AWS keys are plain base64, so a surprising value can never become a command.
 */

/**
 * Where copied credentials are used. `endpointUrl` is set in development with keywarden's local
 * AWS, whose credentials work only there: the AWS SDKs and CLI read `AWS_ENDPOINT_URL`
 * (`endpoint_url` in a config profile), so pasted credentials reach it and not AWS.
 */
export interface SnippetTarget {
  readonly region?: string;
  readonly endpointUrl?: string;
}

/** POSIX single quotes: everything literal; a quote itself is closed, escaped, reopened. */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** PowerShell single-quoted string: a quote is doubled. */
function powerShellQuote(value: string): string {
  return `'${value.replace(/['\u2018\u2019\u201A\u201B]/g, "''")}'`;
}

/** A profile name for INI files: the role's name with anything unusual replaced. */
export function profileName(role: string): string {
  return role.replace(/[^\w.-]/g, '-');
}

/** INI values cannot span lines; AWS keys never contain a newline, but make sure. */
function iniValue(value: string): string {
  return value.replace(/[\r\n]/g, '');
}

export function shellExports(credentials: AwsCredentials, target: SnippetTarget = {}): string {
  return [
    `export AWS_ACCESS_KEY_ID=${shellQuote(credentials.accessKeyId)}`,
    `export AWS_SECRET_ACCESS_KEY=${shellQuote(credentials.secretAccessKey)}`,
    `export AWS_SESSION_TOKEN=${shellQuote(credentials.sessionToken)}`,
    ...(target.region ? [`export AWS_REGION=${shellQuote(target.region)}`] : []),
    ...(target.endpointUrl ? [`export AWS_ENDPOINT_URL=${shellQuote(target.endpointUrl)}`] : []),
  ].join('\n');
}

export function credentialsFileProfile(profile: string, credentials: AwsCredentials): string {
  return [
    `[${profileName(profile)}]`,
    `aws_access_key_id = ${iniValue(credentials.accessKeyId)}`,
    `aws_secret_access_key = ${iniValue(credentials.secretAccessKey)}`,
    `aws_session_token = ${iniValue(credentials.sessionToken)}`,
  ].join('\n');
}

export function powerShellVariables(credentials: AwsCredentials, target: SnippetTarget = {}): string {
  return [
    `$Env:AWS_ACCESS_KEY_ID = ${powerShellQuote(credentials.accessKeyId)}`,
    `$Env:AWS_SECRET_ACCESS_KEY = ${powerShellQuote(credentials.secretAccessKey)}`,
    `$Env:AWS_SESSION_TOKEN = ${powerShellQuote(credentials.sessionToken)}`,
    ...(target.region ? [`$Env:AWS_REGION = ${powerShellQuote(target.region)}`] : []),
    ...(target.endpointUrl ? [`$Env:AWS_ENDPOINT_URL = ${powerShellQuote(target.endpointUrl)}`] : []),
  ].join('\n');
}

/** The `~/.aws/config` profile for `aws --profile <role>`: credentials through the keywarden CLI. */
export function credentialProcessProfile(options: {
  command: string;
  url: string;
  role: string;
  region?: string;
  endpointUrl?: string;
}): string {
  const args = ['credential-process', '--url', options.url, '--role', options.role].map((arg) =>
    /^[\w@%+=:,./-]+$/.test(arg) ? arg : shellQuote(arg),
  );
  return [
    `[profile ${profileName(options.role)}]`,
    `credential_process = ${options.command} ${args.join(' ')}`,
    ...(options.region ? [`region = ${options.region}`] : []),
    // The local AWS serves path-style S3 URLs only (<endpoint>/<bucket>/<key>).
    ...(options.endpointUrl
      ? [`endpoint_url = ${iniValue(options.endpointUrl)}`, 's3 =', '  addressing_style = path']
      : []),
  ].join('\n');
}
