/**
 * @module web/auth — the sign-in form: local accounts (the embedded default) or Firebase
 * (`AUTH_MODE=firebase`, with "Sign in with Google" as well). The form is the same; what its
 * buttons call differs.
 */
import { h } from './dom.ts'
import { notify } from './notices.ts'

export interface SignInMethods {
  login(email: string, password: string): Promise<void>
  register(email: string, password: string): Promise<void>
  /** Firebase only: a Google account, in a popup. */
  google?: () => Promise<void>
}

export function authView(methods: SignInMethods, onSignedIn: () => void): HTMLElement {
  const email = h('input', {
    id: 'email',
    type: 'email',
    name: 'email',
    autocomplete: 'email',
    required: true,
    maxlength: 254,
  })
  const password = h('input', {
    id: 'password',
    type: 'password',
    name: 'password',
    autocomplete: 'current-password',
    required: true,
    minlength: 10,
    maxlength: 1024,
    'aria-describedby': 'password-hint',
  })
  const signIn = h('button', { type: 'submit', class: 'primary' }, 'Sign in')
  const register = h('button', { type: 'button' }, 'Create account')
  const google =
    methods.google === undefined ? null : h('button', { type: 'button' }, 'Sign in with Google')
  const buttons = [signIn, register, ...(google === null ? [] : [google])]
  const form = h(
    'form',
    { class: 'auth', 'aria-labelledby': 'auth-title' },
    h('h2', { id: 'auth-title' }, 'Sign in to your gallery'),
    h('label', { for: 'email' }, 'Email'),
    email,
    h('label', { for: 'password' }, 'Password'),
    password,
    h('p', { id: 'password-hint', class: 'hint' }, 'At least 10 characters.'),
    h('div', { class: 'auth-actions' }, ...buttons),
  )
  const run = async (
    title: string,
    work: () => Promise<void>,
    checkForm: boolean,
  ): Promise<void> => {
    if (checkForm && !form.reportValidity()) return
    for (const button of buttons) button.disabled = true
    try {
      await work()
      onSignedIn()
    } catch (error) {
      notify('error', title, error instanceof Error ? error.message : String(error))
      password.focus()
    } finally {
      for (const button of buttons) button.disabled = false
    }
  }
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    void run('Could not sign in', () => methods.login(email.value, password.value), true)
  })
  register.addEventListener(
    'click',
    () =>
      void run(
        'Could not create the account',
        () => methods.register(email.value, password.value),
        true,
      ),
  )
  const signInWithGoogle = methods.google
  if (google !== null && signInWithGoogle !== undefined)
    google.addEventListener('click', () => void run('Could not sign in', signInWithGoogle, false))
  return form
}

/** Shown instead of the form when the server uses Firebase but has no Web API key for the page. */
export function firebaseNotConfiguredView(): HTMLElement {
  return h(
    'div',
    { class: 'notice error', role: 'alert' },
    h(
      'div',
      {},
      h('strong', {}, 'Firebase sign-in is not configured'),
      h(
        'p',
        {},
        'This server signs people in with Firebase, but the page has no Web API key. Set FIREBASE_WEB_API_KEY (Firebase console → Project settings → General) and restart.',
      ),
    ),
  )
}
