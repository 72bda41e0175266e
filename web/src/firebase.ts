/**
 * @module web/firebase — sign-in with Firebase Authentication (`AUTH_MODE=firebase`). Loaded only
 * in that mode (a separate chunk), so the embedded default never downloads Firebase's SDK.
 *
 * The SDK keeps the user signed in (IndexedDB) and refreshes the ID token; every API call sends
 * the current token as `Authorization: Bearer`, which the server verifies against Google's keys.
 */
import { initializeApp } from 'firebase/app'
import {
  GoogleAuthProvider,
  connectAuthEmulator,
  createUserWithEmailAndPassword,
  getAuth,
  signInWithEmailAndPassword,
  signInWithPopup,
  signOut,
} from 'firebase/auth'
import type { PublicAuthConfig } from '../../src/http/routes/pages.ts'
import type { SignInMethods } from './auth.ts'

export type FirebaseConfig = Extract<PublicAuthConfig, { mode: 'firebase' }> & { apiKey: string }

export interface FirebaseSession extends SignInMethods {
  /** The signed-in user's current ID token (refreshed by the SDK when near expiry), or null. */
  token(): Promise<string | null>
  email(): string | null
  signedIn(): boolean
  signOut(): Promise<void>
}

/** Firebase's error codes, in words a person can act on. */
const MESSAGES: Record<string, string> = {
  'auth/invalid-credential': 'Invalid email or password',
  'auth/invalid-login-credentials': 'Invalid email or password',
  'auth/wrong-password': 'Invalid email or password',
  'auth/user-not-found': 'Invalid email or password',
  'auth/invalid-email': 'That email address is not valid',
  'auth/email-already-in-use': 'Could not register with this email; sign in instead if it is yours',
  'auth/weak-password': 'Choose a longer password',
  'auth/too-many-requests': 'Too many attempts; wait a few minutes and try again',
  'auth/user-disabled': 'This account is disabled',
  'auth/network-request-failed': 'Firebase cannot be reached. Check your connection and try again.',
  'auth/popup-blocked': 'The browser blocked the sign-in window; allow pop-ups for this site',
  'auth/popup-closed-by-user': 'The sign-in window was closed before signing in',
  'auth/cancelled-popup-request': 'The sign-in window was closed before signing in',
  'auth/operation-not-allowed':
    'This sign-in method is not enabled in the Firebase project (Authentication → Sign-in method)',
  'auth/unauthorized-domain':
    'This site is not an authorized domain of the Firebase project (Authentication → Settings)',
  'auth/api-key-not-valid.-please-pass-a-valid-api-key.':
    'FIREBASE_WEB_API_KEY is not a valid Web API key of this Firebase project',
}

function explain(error: unknown): Error {
  const code =
    typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : ''
  return new Error(MESSAGES[code] ?? `Firebase sign-in failed (${code || 'unknown error'})`)
}

async function attempt(work: () => Promise<unknown>): Promise<void> {
  try {
    await work()
  } catch (error) {
    throw explain(error)
  }
}

export async function startFirebase(config: FirebaseConfig): Promise<FirebaseSession> {
  const app = initializeApp({
    apiKey: config.apiKey,
    authDomain: config.authDomain,
    projectId: config.projectId,
  })
  const auth = getAuth(app)
  if (config.emulatorUrl !== null) connectAuthEmulator(auth, config.emulatorUrl)
  await auth.authStateReady()
  return {
    token: async () => (auth.currentUser === null ? null : auth.currentUser.getIdToken()),
    email: () => auth.currentUser?.email ?? null,
    signedIn: () => auth.currentUser !== null,
    signOut: () => signOut(auth),
    login: (email, password) => attempt(() => signInWithEmailAndPassword(auth, email, password)),
    register: (email, password) =>
      attempt(() => createUserWithEmailAndPassword(auth, email, password)),
    google: () => attempt(() => signInWithPopup(auth, new GoogleAuthProvider())),
  }
}
