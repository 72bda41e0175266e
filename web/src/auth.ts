/**
 * @module web/auth — sign in or create an account (local accounts, the embedded default).
 */
import { api } from './api.ts'
import { h } from './dom.ts'
import { notify } from './notices.ts'

export function authView(onSignedIn: () => void): HTMLElement {
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
  const form = h(
    'form',
    { class: 'auth', 'aria-labelledby': 'auth-title' },
    h('h2', { id: 'auth-title' }, 'Sign in to your gallery'),
    h('label', { for: 'email' }, 'Email'),
    email,
    h('label', { for: 'password' }, 'Password'),
    password,
    h('p', { id: 'password-hint', class: 'hint' }, 'At least 10 characters.'),
    h('div', { class: 'auth-actions' }, signIn, register),
  )
  const submit = async (action: 'login' | 'register'): Promise<void> => {
    if (!form.reportValidity()) return
    signIn.disabled = register.disabled = true
    try {
      await (action === 'login'
        ? api.login(email.value, password.value)
        : api.register(email.value, password.value))
      onSignedIn()
    } catch (error) {
      notify(
        'error',
        action === 'login' ? 'Could not sign in' : 'Could not create the account',
        error instanceof Error ? error.message : String(error),
      )
      password.focus()
    } finally {
      signIn.disabled = register.disabled = false
    }
  }
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    void submit('login')
  })
  register.addEventListener('click', () => void submit('register'))
  return form
}
