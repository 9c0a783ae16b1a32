import { createKeywardenClient, KeywardenError, type Session } from '@keywarden/client';
import { element, formatBytes } from './dom.ts';
import { type Photo, PhotoLibrary } from './photo-library.ts';
import { settings } from './settings.ts';
import { describeError, uploadFiles } from './upload-list.ts';

/**
 * The app's whole life: ask keywarden who the user is (the session cookie rides along),
 * sign in by navigating to keywarden, upload through presigned URLs, list and show the photos
 * straight from S3 with the AWS SDK, sign out.
 */

// A browser session: keywarden's cookie (credentials: 'include') and the X-CSRF header.
const keywarden = createKeywardenClient({
  baseUrl: settings.keywardenUrl,
  // Any 401: the session expired, or ended in another tab. Back to the Sign in button.
  onSignInRequired: () => {
    forgetUser();
    showSignedOut();
  },
});

const view = {
  loading: element('loading', HTMLParagraphElement),
  signedOut: element('signed-out', HTMLElement),
  signedIn: element('signed-in', HTMLElement),
  signIn: element('sign-in', HTMLButtonElement),
  idpSignOut: element('idp-sign-out', HTMLParagraphElement),
  userName: element('user-name', HTMLElement),
  prefix: element('prefix', HTMLElement),
  signOut: element('sign-out', HTMLButtonElement),
  files: element('files', HTMLInputElement),
  uploads: element('uploads', HTMLUListElement),
  empty: element('empty', HTMLParagraphElement),
  gallery: element('gallery', HTMLUListElement),
  error: element('error', HTMLParagraphElement),
};

/** The signed-in user's photos; a new one (new credentials, new S3 client) at every sign-in. */
let library: PhotoLibrary | undefined;

function showError(error: unknown): void {
  view.error.hidden = false;
  view.error.textContent = `Something went wrong: ${describeError(error)}`;
}

/**
 * Drops the signed-in user's S3 client and credentials. Credentials already handed out stay
 * valid until they expire (as AWS's do); keywarden gives no new ones without a session.
 */
function forgetUser(): void {
  library?.close();
  library = undefined;
  view.gallery.replaceChildren();
}

function showSignedOut(idpLogoutUrl?: string): void {
  document.body.dataset.state = 'signed-out';
  view.loading.hidden = true;
  view.signedIn.hidden = true;
  view.signedOut.hidden = false;
  view.idpSignOut.hidden = idpLogoutUrl === undefined;
  if (idpLogoutUrl) {
    // Without it, the next sign-in finds the IdP session and signs the same user in again.
    const link = document.createElement('a');
    link.href = idpLogoutUrl;
    link.textContent = 'sign out there too';
    view.idpSignOut.replaceChildren('You are still signed in at the identity provider: ', link, '.');
  }
}

async function showSignedIn(session: Session): Promise<void> {
  library = new PhotoLibrary(keywarden.credentials());
  view.userName.textContent = session.name ?? session.subject;
  view.prefix.textContent = await library.prefix();
  view.loading.hidden = true;
  view.signedOut.hidden = true;
  view.signedIn.hidden = false;
  document.body.dataset.state = 'signed-in';
  await refreshGallery();
}

async function refreshGallery(): Promise<void> {
  if (!library) return;
  const photos = await library.list();
  view.gallery.replaceChildren(...photos.map(photoItem));
  view.empty.hidden = photos.length > 0;
}

function photoItem(photo: Photo): HTMLLIElement {
  const item = document.createElement('li');
  item.dataset.key = photo.key;
  const figure = document.createElement('figure');
  const image = document.createElement('img');
  image.src = photo.url;
  image.alt = photo.name;
  image.loading = 'lazy';
  const caption = document.createElement('figcaption');
  caption.textContent = `${photo.name} · ${formatBytes(photo.size)}`;
  figure.append(image, caption);
  item.append(figure);
  return item;
}

view.signIn.addEventListener('click', () => {
  // A top-level navigation to keywarden, which comes back here (this origin is in cors.origins).
  keywarden.signIn(settings.provider, window.location.href);
});

view.signOut.addEventListener('click', async () => {
  try {
    const { logoutUrl } = await keywarden.signOut();
    forgetUser();
    view.uploads.replaceChildren();
    showSignedOut(logoutUrl);
  } catch (error) {
    showError(error);
  }
});

view.files.addEventListener('change', async () => {
  const files = [...(view.files.files ?? [])];
  view.files.value = '';
  try {
    await uploadFiles(keywarden, files, view.uploads, refreshGallery);
  } catch (error) {
    showError(error);
  }
});

async function start(): Promise<void> {
  try {
    const session = await keywarden.session();
    if (session?.kind === 'user') await showSignedIn(session);
    else showSignedOut();
  } catch (error) {
    view.loading.hidden = true;
    // 0 / network_error: keywarden is not running, or this origin is not in its cors.origins.
    if (error instanceof KeywardenError && error.code === 'network_error') {
      view.error.hidden = false;
      view.error.textContent = `keywarden did not answer at ${settings.keywardenUrl}. Is it running, with this page's origin (${window.location.origin}) in cors.origins?`;
    } else showError(error);
  }
}

void start();
