// Lock contracts the compiler checks: Clang's thread-safety analysis (-Wthread-safety, on in
// every Clang build through cmake/SluiceWarnings.cmake). Under GCC every macro expands to
// nothing, so the contracts are checked by the Clang (TSan) build of scripts/test.
//
//   Mutex mutex_;
//   int64_t completed_ SLUICE_GUARDED_BY(mutex_);   // read or written only with mutex_ held
//   void Complete() SLUICE_REQUIRES(mutex_);         // the caller holds mutex_
//   void Stop() SLUICE_EXCLUDES(mutex_);             // the caller must not hold it (it locks)
//
// Use them with sluice::internal::Mutex / MutexLock (core/mutex.h); std::mutex carries no
// annotations in libstdc++, so the analysis cannot see it being locked.
#pragma once

#if defined(__clang__)
#define SLUICE_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define SLUICE_THREAD_ANNOTATION(x)
#endif

/// A type that is a lock ("mutex"): the analysis tracks which instances a thread holds.
#define SLUICE_CAPABILITY(name) SLUICE_THREAD_ANNOTATION(capability(name))
/// An RAII type that holds a capability for its lifetime (MutexLock).
#define SLUICE_SCOPED_CAPABILITY SLUICE_THREAD_ANNOTATION(scoped_lockable)

/// The member may only be read or written while the given mutex is held.
#define SLUICE_GUARDED_BY(mu) SLUICE_THREAD_ANNOTATION(guarded_by(mu))
/// What the pointer points to may only be touched while the given mutex is held.
#define SLUICE_PT_GUARDED_BY(mu) SLUICE_THREAD_ANNOTATION(pt_guarded_by(mu))

/// The caller must hold the mutexes (exclusively) when calling.
#define SLUICE_REQUIRES(...) SLUICE_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
/// The caller must not hold the mutexes: the function locks them itself.
#define SLUICE_EXCLUDES(...) SLUICE_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))

/// The function acquires / releases the mutexes (or, on a scoped type, its own).
#define SLUICE_ACQUIRE(...) SLUICE_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define SLUICE_RELEASE(...) SLUICE_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
/// The function acquires the mutex when it returns `result` (true or false).
#define SLUICE_TRY_ACQUIRE(...) SLUICE_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))

/// Tells the analysis the mutex is held from here on (for checks it cannot follow).
#define SLUICE_ASSERT_CAPABILITY(mu) SLUICE_THREAD_ANNOTATION(assert_capability(mu))
/// The function returns a reference to the given mutex.
#define SLUICE_RETURN_CAPABILITY(mu) SLUICE_THREAD_ANNOTATION(lock_returned(mu))

/// Turns the analysis off for one function; say why next to every use.
#define SLUICE_NO_THREAD_SAFETY_ANALYSIS SLUICE_THREAD_ANNOTATION(no_thread_safety_analysis)
